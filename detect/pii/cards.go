package pii

// iinRange is one issuer identification number range of a card network:
// card numbers whose first len(lo) digits lie in [lo, hi] and whose length
// is within [minLen, maxLen] belong to brand.
type iinRange struct {
	lo, hi         string
	minLen, maxLen int
	brand          string
	// weak ranges (short lengths of debit schemes) need a context word or
	// card-style grouping before they count; see validateCard.
	weak bool
}

// iinTable lists the ranges of the published issuer identification number
// tables (ISO/IEC 7812 as the networks publish them) for the brands the
// recogniser knows. Order matters only for the brand name reported:
// the first matching row wins.
var iinTable = []iinRange{
	{"4", "4", 13, 13, "visa", false},
	{"4", "4", 16, 16, "visa", false},
	{"4", "4", 19, 19, "visa", false},
	{"51", "55", 16, 16, "mastercard", false},
	{"2221", "2720", 16, 16, "mastercard", false},
	{"34", "34", 15, 15, "amex", false},
	{"37", "37", 15, 15, "amex", false},
	{"6011", "6011", 16, 19, "discover", false},
	{"644", "649", 16, 19, "discover", false},
	{"65", "65", 16, 19, "discover", false},
	{"622126", "622925", 16, 19, "discover", false},
	{"3528", "3589", 16, 19, "jcb", false},
	{"2131", "2131", 15, 15, "jcb", false},
	{"1800", "1800", 15, 15, "jcb", false},
	{"300", "305", 14, 19, "diners", false},
	{"3095", "3095", 14, 19, "diners", false},
	{"36", "36", 14, 19, "diners", false},
	{"38", "39", 14, 19, "diners", false},
	{"62", "62", 16, 19, "unionpay", false},
	{"81", "81", 16, 19, "unionpay", false},
	{"2200", "2204", 16, 19, "mir", false},
	{"60", "60", 16, 16, "rupay", false},
	{"508", "508", 16, 16, "rupay", false},
	{"353", "353", 16, 16, "rupay", false},
	{"356", "356", 16, 16, "rupay", false},
	{"82", "82", 16, 16, "rupay", false},
	// Maestro: the network's published ranges at 12-19 digits, and the
	// ISO range 50, 56-69 at 16-19 digits.
	{"5018", "5018", 12, 19, "maestro", false},
	{"5020", "5020", 12, 19, "maestro", false},
	{"5038", "5038", 12, 19, "maestro", false},
	{"5893", "5893", 12, 19, "maestro", false},
	{"6304", "6304", 12, 19, "maestro", false},
	{"6759", "6759", 12, 19, "maestro", false},
	{"6761", "6763", 12, 19, "maestro", false},
	{"50", "50", 16, 19, "maestro", false},
	{"56", "69", 16, 19, "maestro", false},
	{"50", "50", 12, 15, "maestro", true},
	{"56", "69", 12, 15, "maestro", true},
}

// cardBrand returns the brand of a card number (digits only) and whether
// the range is weak, or "" when no range of iinTable holds it.
func cardBrand(ds []byte) (string, bool) {
	n := len(ds)
	for i := range iinTable {
		r := &iinTable[i]
		if n < r.minLen || n > r.maxLen {
			continue
		}
		k := len(r.lo)
		p := string(ds[:k])
		if p >= r.lo && p <= r.hi {
			return r.brand, r.weak
		}
	}
	return "", false
}

// cardIssuer returns the issuer network of a card number (digits only)
// when its prefix and length belong to a known range, else "".
func cardIssuer(ds []byte) string {
	b, _ := cardBrand(ds)
	return b
}
