package pii

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// cand is a validated span (absolute byte offsets) with its base score.
type cand struct {
	start, end int
	score      float64
}

// recogniser is one entity detector: trigger is a cheap test on a window,
// re proposes candidate spans inside it, validate checks each candidate
// against the whole text (for boundaries) and returns accepted spans.
type recogniser struct {
	entity   string
	re       *regexp.Regexp
	trigger  func(window string) bool
	validate func(text string, start, end int) []cand
	// validateCx, when set, replaces validate for recognisers that use
	// what the scan learnt about the whole text.
	validateCx func(cx *scanCtx, start, end int) []cand
	context    []string
	negContext []string
}

var (
	reEmail = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}`)
	// reDigitRun is digits with single space, dash, dot or slash
	// separators: the shape of card numbers and SSNs.
	reDigitRun = regexp.MustCompile(`\d+(?:[ \-./]\d+)*`)
	reIBAN     = regexp.MustCompile(`[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,36}`)
	reIPv4     = regexp.MustCompile(`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`)
	reIPv6     = regexp.MustCompile(`(?i)(?:[0-9a-f]{0,4}:){2,6}\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}`)
	reMAC      = regexp.MustCompile(`(?i)[0-9a-f]{2}(?:[:\-][0-9a-f]{2}){5}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}`)
	reCrypto   = regexp.MustCompile(`\b(?i:(?:bc|tb)1[02-9ac-hj-np-z]{8,87})|0x[0-9a-fA-F]{40}|\b[13mn2][1-9A-HJ-NP-Za-km-z]{25,34}`)
	reDate     = regexp.MustCompile(`^(?:\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4})(?:$|[ T])`)
)

func hasAny(chars string) func(string) bool {
	return func(w string) bool { return strings.ContainsAny(w, chars) }
}

func always(string) bool { return true }

// builtins returns the recognisers per entity.
func builtins(s *Scanner) map[string][]*recogniser {
	return map[string][]*recogniser{
		Email: {{entity: Email, re: reEmail, trigger: hasAny("@"), validate: validateEmail,
			context: []string{"email", "e-mail", "mail", "contact", "reach"}}},
		Phone: {{entity: Phone, re: rePhone, trigger: always, validateCx: s.validatePhone, context: phoneContext, negContext: phoneNegContext}},
		CreditCard: {{entity: CreditCard, re: reDigitRun, trigger: always, validate: validateCard,
			context:    []string{"card", "credit", "debit", "visa", "mastercard", "amex", "american express", "discover", "jcb", "diners", "unionpay", "payment", "cc", "pan", "maestro", "mir", "rupay", "charge", "paid"},
			negContext: []string{"order", "tracking", "invoice", "ref", "reference", "isbn", "serial", "transaction", "confirmation", "ticket", "id", "barcode", "ean", "sku"}}},
		IBAN: {{entity: IBAN, re: reIBAN, trigger: always, validate: validateIBAN,
			context: []string{"iban", "bank", "account", "transfer", "sepa", "wire"}}},
		USSSN: {{entity: USSSN, re: reDigitRun, trigger: always, validate: validateSSN,
			context:    []string{"ssn", "social security", "social-security", "sozialversicherung", "tax id", "tin", "taxpayer"},
			negContext: []string{"order", "tracking", "invoice", "ref", "reference", "isbn", "serial", "transaction", "confirmation", "ticket", "routing", "account", "zip", "phone", "tel", "fax"}}},
		IPAddress: {
			{entity: IPAddress, re: reIPv4, trigger: hasAny("."), validate: validateIPv4,
				context:    []string{"ip", "address", "host", "server", "ping", "subnet", "gateway", "dns", "connect", "client", "proxy", "route"},
				negContext: []string{"version", "release", "build", "ver.", "firmware", "oid"}},
			{entity: IPAddress, re: reIPv6, trigger: hasAny(":"), validate: validateIPv6,
				context: []string{"ip", "ipv6", "address", "host", "server", "ping", "subnet", "gateway", "dns", "connect"}},
		},
		MACAddress: {{entity: MACAddress, re: reMAC, trigger: hasAny(":-."), validate: validateMAC,
			context: []string{"mac", "ethernet", "wifi", "wi-fi", "hardware", "nic", "interface", "bssid", "device"}}},
		Crypto: {{entity: Crypto, re: reCrypto, trigger: always, validate: validateCrypto,
			context: []string{"wallet", "bitcoin", "btc", "eth", "ethereum", "crypto", "address", "send", "usdt"}}},
	}
}

func knownRegion(r string) bool { return phonenumbers.GetSupportedRegions()[r] }

// boundedAt reports whether [start, end) stands alone in text: the bytes
// around it are not alphanumeric or '_', and it is not part of a longer
// dotted or dashed number (e.g. "1.2.3.4" inside "1.2.3.4.5").
func boundedAt(text string, start, end int) bool {
	if start > 0 {
		b := text[start-1]
		if isAlnum(b) || b == '_' {
			return false
		}
		if (b == '.' || b == '-' || b == ':' || b == '/') && start > 1 && isAlnum(text[start-2]) {
			return false
		}
	}
	if end < len(text) {
		b := text[end]
		if isAlnum(b) || b == '_' {
			return false
		}
		if (b == '.' || b == '-' || b == ':' || b == '/') && end+1 < len(text) && isAlnum(text[end+1]) {
			return false
		}
	}
	return true
}

func validateEmail(text string, start, end int) []cand {
	at := strings.IndexByte(text[start:end], '@') + start
	for start < at && (text[start] == '.' || text[start] == '-') {
		start++
	}
	local := text[start:at]
	if local == "" || len(local) > 64 || strings.HasSuffix(local, ".") || strings.Contains(local, "..") || end-at > 255 {
		return nil
	}
	if end < len(text) && (isAlnum(text[end]) || text[end] == '-' || text[end] == '_') {
		return nil
	}
	return []cand{{start, end, 0.9}}
}

// digitGroups splits a digit run into its groups and separators.
func digitGroups(run string) (groups [][2]int, seps []byte) {
	i := 0
	for i < len(run) {
		j := i
		for j < len(run) && isDigit(run[j]) {
			j++
		}
		groups = append(groups, [2]int{i, j})
		if j < len(run) {
			seps = append(seps, run[j])
		}
		i = j + 1
	}
	return groups, seps
}

// validateCard looks for card numbers inside a digit run: any span of whole
// groups with one kind of separator, 12-19 digits, a known issuer range
// and a valid Luhn check digit. Longest spans win. A number right after a
// '+' is a phone number, not a card.
func validateCard(text string, start, end int) []cand {
	run := text[start:end]
	groups, seps := digitGroups(run)
	var out, weakOut []cand
	var ds [19]byte
	for i := 0; i < len(groups); {
		found := false
		for j := len(groups) - 1; j >= i && !found; j-- {
			n := 0
			ok := true
			for g := i; g <= j && ok; g++ {
				if g > i && seps[g-1] != seps[i] {
					ok = false
				}
				n += groups[g][1] - groups[g][0]
				if n > 19 {
					ok = false
				}
			}
			if !ok || n < 12 {
				continue
			}
			d := ds[:0]
			for g := i; g <= j; g++ {
				d = append(d, run[groups[g][0]:groups[g][1]]...)
			}
			st, en := start+groups[i][0], start+groups[j][1]
			brand, weak := cardBrand(d)
			if brand == "" || !luhn(d) || st > 0 && text[st-1] == '+' {
				continue
			}
			if boundedAt(text, st, en) || (i > 0 || j < len(groups)-1) && looseBounded(text, st, en, start, end) {
				score := 0.9
				inside := !boundedAt(text, st, en) || j > i && (i > 0 && seps[i-1] == seps[i] || j < len(groups)-1 && seps[j] == seps[i])
				if inside && !cardGrouped(groups[i:j+1]) {
					score = 0.3 // part of a longer run of like groups: needs a context word
				}
				if weak {
					score = 0.3 // short debit ranges need a context word
				}
				c := cand{st, en, score}
				if score < 0.5 && inside {
					// keep looking for a better-grouped card in the run
					weakOut = append(weakOut, c)
					continue
				}
				out = append(out, c)
				i = j + 1
				found = true
			}
		}
		if !found {
			i++
		}
	}
	for _, w := range weakOut {
		free := true
		for _, o := range out {
			if w.start < o.end && o.start < w.end {
				free = false
				break
			}
		}
		if free {
			out = append(out, w)
		}
	}
	return out
}

// cardGrouped reports whether digit groups are written the way cards are
// printed: fours (the last may be shorter), or 4-6-5 / 4-6-4.
func cardGrouped(gs [][2]int) bool {
	if len(gs) < 3 {
		return false
	}
	l := func(k int) int { return gs[k][1] - gs[k][0] }
	if len(gs) == 3 && l(0) == 4 && l(1) == 6 && (l(2) == 5 || l(2) == 4) {
		return true
	}
	for k := 0; k < len(gs)-1; k++ {
		if l(k) != 4 {
			return false
		}
	}
	return l(len(gs)-1) <= 4
}

// looseBounded accepts a sub-span of a digit run (a card inside a longer
// run of groups) when the run itself stands alone.
func looseBounded(text string, st, en, runStart, runEnd int) bool {
	return boundedAt(text, runStart, runEnd) && st >= runStart && en <= runEnd
}

// validateSSN looks inside a digit run for three groups of 3, 2 and 4
// digits with the same separator (dash, space or dot), or a lone group of
// nine digits, that pass the SSA rules. Only the dashed form stands
// without a context word; nine digits in a row need an SSN word right
// before them; the well-known example numbers (123-45-6789) count only
// next to one.
func validateSSN(text string, start, end int) []cand {
	run := text[start:end]
	groups, seps := digitGroups(run)
	var out []cand
	glen := func(g int) int { return groups[g][1] - groups[g][0] }
	for i := 0; i < len(groups); i++ {
		var area, group, serial string
		var st, en int
		score := 0.6
		switch {
		case glen(i) == 9 && len(groups) == 1:
			st, en = start+groups[i][0], start+groups[i][1]
			g := text[st:en]
			area, group, serial = g[:3], g[3:5], g[5:]
			if !wordBefore(text, st, 32, ssnStrongContext) {
				continue
			}
		case i+2 < len(groups) && glen(i) == 3 && glen(i+1) == 2 && glen(i+2) == 4 && seps[i] == seps[i+1] && seps[i] != '/' &&
			(i == 0 || seps[i-1] == ' ') && (i+3 >= len(groups) || seps[i+2] == ' '):
			st, en = start+groups[i][0], start+groups[i+2][1]
			g := text[st:en]
			area, group, serial = g[:3], g[4:6], g[7:11]
			if seps[i] != '-' {
				score = 0.45 // space- or dot-separated needs context
			}
		default:
			continue
		}
		if !boundedAt(text, st, en) || !ssnShapeValid(area, group, serial) {
			continue
		}
		if !ssnValid(area, group, serial) {
			// an example or voided number (123-45-6789, 078-05-1120):
			// only next to an SSN word, where it is written as one
			score = 0.1
			if hasWord(text, st, en, ssnStrongContext) {
				score = 0.6
			}
		}
		out = append(out, cand{st, en, score})
	}
	return out
}

// ssnStrongContext are the words that make even an example-looking number
// (123-45-6789) an SSN.
var ssnStrongContext = []string{"ssn", "social security", "social-security"}

// validateIBAN reads the country's IBAN length of alphanumerics (spaces
// allowed between them) from the candidate and checks mod-97.
func validateIBAN(text string, start, end int) []cand {
	if start > 0 && isAlnum(text[start-1]) {
		return nil
	}
	want, ok := ibanLengths[text[start:start+2]]
	if !ok {
		return nil
	}
	var buf [34]byte
	b := buf[:0]
	i := start
	// The candidate may stop short of the last group (a short group of
	// letters ends the window): read on in the text while it looks like
	// an IBAN (upper-case alphanumerics, single spaces).
	for i < len(text) && len(b) < want {
		c := text[i]
		switch {
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b = append(b, c)
		case c == ' ' && i+1 < len(text) && text[i+1] != ' ' && i > start:
		default:
			return nil
		}
		i++
	}
	if len(b) != want || !boundedAt(text, start, i) {
		return nil
	}
	if !ibanValid(string(b)) {
		return nil
	}
	return []cand{{start, i, 0.95}}
}

func validateIPv4(text string, start, end int) []cand {
	if !boundedAt(text, start, end) && !(boundedAt(text[:end], start, end) && portOrPrefix(text, end)) {
		return nil
	}
	a, err := netip.ParseAddr(text[start:end])
	if err != nil || !a.Is4() {
		return nil
	}
	score := 0.6
	b := a.As4()
	if b[0] < 10 && b[1] < 10 && b[2] < 10 && b[3] < 10 && !(b[0] == b[1] && b[1] == b[2] && b[2] == b[3]) {
		// "1.2.3.4" looks like a version number: it needs context. Repeated
		// digits (8.8.8.8, 1.1.1.1) are well-known resolvers, not versions.
		score = 0.4
	}
	return []cand{{start, end, score}}
}

// portOrPrefix reports whether text at i continues an address with a
// port (":8080") or a CIDR prefix length ("/24") that ends there.
func portOrPrefix(text string, i int) bool {
	if i >= len(text) || text[i] != ':' && text[i] != '/' {
		return false
	}
	j := i + 1
	for j < len(text) && j-i <= 5 && isDigit(text[j]) {
		j++
	}
	if j == i+1 || text[i] == '/' && j-i > 4 {
		return false
	}
	return j == len(text) || !isAlnum(text[j]) && text[j] != '.' && text[j] != ':' || text[j] == '.' && (j+1 == len(text) || !isAlnum(text[j+1]))
}

func validateIPv6(text string, start, end int) []cand {
	c := text[start:end]
	if strings.HasSuffix(c, ":") && !strings.HasSuffix(c, "::") {
		end--
		c = c[:len(c)-1]
	}
	if strings.Count(c, ":") < 2 {
		return nil
	}
	if start > 0 && (isAlnum(text[start-1]) || text[start-1] == ':') {
		return nil
	}
	if end < len(text) && (isAlnum(text[end]) || text[end] == ':' || text[end] == '_') && !portOrPrefix(text, end) {
		return nil
	}
	a, err := netip.ParseAddr(c)
	if err != nil || !a.Is6() {
		return nil
	}
	groups := 0
	for _, g := range strings.Split(c, ":") {
		if g != "" {
			groups++
		}
	}
	score := 0.8
	if groups < 3 {
		score = 0.4
	}
	return []cand{{start, end, score}}
}

func validateMAC(text string, start, end int) []cand {
	c := text[start:end]
	if len(c) == 17 && (strings.Count(c, ":") != 5 && strings.Count(c, "-") != 5) {
		return nil // mixed separators
	}
	if !boundedAt(text, start, end) {
		return nil
	}
	return []cand{{start, end, 0.7}}
}

func validateCrypto(text string, start, end int) []cand {
	c := text[start:end]
	if !boundedAt(text, start, end) {
		return nil
	}
	switch {
	case len(c) == 42 && (c[:2] == "0x" || c[:2] == "0X"):
		h := c[2:]
		if strings.ToLower(h) == h || strings.ToUpper(h) == h {
			return []cand{{start, end, 0.7}}
		}
		if eip55Valid(h) {
			return []cand{{start, end, 0.95}}
		}
		return nil
	case len(c) > 3 && strings.EqualFold(c[2:3], "1") && (strings.EqualFold(c[:2], "bc") || strings.EqualFold(c[:2], "tb")) && bech32AddressValid(c):
		return []cand{{start, end, 0.95}}
	case base58CheckValid(c):
		return []cand{{start, end, 0.95}}
	}
	return nil
}
