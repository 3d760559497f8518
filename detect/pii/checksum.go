package pii

import (
	"crypto/sha256"
	"math/big"
	"strings"

	"golang.org/x/crypto/sha3"
)

// luhn reports whether the decimal digits in ds pass the Luhn check.
func luhn(ds []byte) bool {
	sum := 0
	double := false
	for i := len(ds) - 1; i >= 0; i-- {
		d := int(ds[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return len(ds) > 0 && sum%10 == 0
}

// ibanLengths is the IBAN length per country (SWIFT IBAN registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
	"JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
	"MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
	"PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
	"SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ibanValid checks an IBAN given as uppercase alphanumerics without spaces.
func ibanValid(s string) bool {
	if len(s) < 15 || len(s) > 34 || ibanLengths[s[:2]] != len(s) {
		return false
	}
	// Move the first four characters to the end, letters to 10..35, mod 97.
	rem := 0
	r := s[4:] + s[:4]
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// ssnShapeValid applies the SSA's rules to area, group and serial
// numbers: no all-zero part, no area 666 or 900-999.
func ssnShapeValid(area, group, serial string) bool {
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

// ssnValid is ssnShapeValid without the well-known invalid or example
// numbers and numbers of one repeated digit.
func ssnValid(area, group, serial string) bool {
	if !ssnShapeValid(area, group, serial) {
		return false
	}
	all := area + group + serial
	switch all {
	case "078051120", "219099999", "123456789", "987654321", "457555462":
		return false
	}
	return strings.Count(all, all[:1]) != len(all) // not one digit repeated
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58CheckValid decodes a Bitcoin Base58Check address and verifies its
// 25-byte layout, version byte (P2PKH 0x00, P2SH 0x05, testnet 0x6f/0xc4)
// and double-SHA256 checksum.
func base58CheckValid(s string) bool {
	if len(s) < 26 || len(s) > 35 {
		return false
	}
	n := new(big.Int)
	b58 := big.NewInt(58)
	for i := 0; i < len(s); i++ {
		k := strings.IndexByte(base58Alphabet, s[i])
		if k < 0 {
			return false
		}
		n.Mul(n, b58)
		n.Add(n, big.NewInt(int64(k)))
	}
	raw := n.Bytes()
	lead := 0
	for lead < len(s) && s[lead] == '1' {
		lead++
	}
	full := make([]byte, lead+len(raw))
	copy(full[lead:], raw)
	if len(full) != 25 {
		return false
	}
	switch full[0] {
	case 0x00, 0x05, 0x6f, 0xc4:
	default:
		return false
	}
	h1 := sha256.Sum256(full[:21])
	h2 := sha256.Sum256(h1[:])
	return h2[0] == full[21] && h2[1] == full[22] && h2[2] == full[23] && h2[3] == full[24]
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>uint(i))&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// bech32AddressValid verifies a SegWit address (BIP-173 / BIP-350): single
// case, human-readable part "bc" or "tb", data in the bech32 charset, and a
// checksum of bech32 for witness version 0 or bech32m for versions 1-16.
func bech32AddressValid(s string) bool {
	if len(s) < 14 || len(s) > 90 {
		return false
	}
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return false
	}
	s = strings.ToLower(s)
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || sep+7 > len(s) {
		return false
	}
	hrp, data := s[:sep], s[sep+1:]
	if hrp != "bc" && hrp != "tb" {
		return false
	}
	vals := make([]byte, 0, len(hrp)*2+1+len(data))
	for i := 0; i < len(hrp); i++ {
		vals = append(vals, hrp[i]>>5)
	}
	vals = append(vals, 0)
	for i := 0; i < len(hrp); i++ {
		vals = append(vals, hrp[i]&31)
	}
	for i := 0; i < len(data); i++ {
		k := strings.IndexByte(bech32Charset, data[i])
		if k < 0 {
			return false
		}
		vals = append(vals, byte(k))
	}
	ver := vals[len(hrp)*2+1]
	if ver > 16 {
		return false
	}
	want := uint32(1)
	if ver > 0 {
		want = 0x2bc830a3
	}
	return bech32Polymod(vals) == want
}

// eip55Valid checks the mixed-case checksum of an Ethereum address given
// as 40 hex digits (without 0x). All-lowercase or all-uppercase addresses
// carry no checksum; the caller decides what to make of them.
func eip55Valid(hex40 string) bool {
	lowered := strings.ToLower(hex40)
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lowered))
	sum := h.Sum(nil)
	for i := 0; i < 40; i++ {
		c := hex40[i]
		if c >= '0' && c <= '9' {
			continue
		}
		nib := sum[i/2]
		if i%2 == 0 {
			nib >>= 4
		}
		upper := c >= 'A' && c <= 'F'
		if (nib&0xf >= 8) != upper {
			return false
		}
	}
	return true
}
