package pii

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// rePhone proposes phone candidates: an optional '+' or '(', digits with
// spaces, dashes, dots and parentheses between them, and an optional
// extension ("x305", "ext. 12", "#4").
var rePhone = regexp.MustCompile(`\(?\+?\(?\d[\d ().\-]{5,40}\d\)?(?:[ ]?(?i:x|ext\.?|extn\.?|extension|#)[ ]?\d{1,6})?`)

// reExt finds where an extension starts in a candidate.
var reExt = regexp.MustCompile(`[ ]?(?i:x|ext\.?|extn\.?|extension|#)[ ]?\d{1,6}$`)

// extraPhoneRegions are tried, after the configured regions and the
// regions hinted by the text's international numbers, for national numbers
// that are valid there. Such a number alone scores below the default
// minimum: it needs a context word, a phone-like grouping with a trunk
// prefix, or the region's name in the text.
var extraPhoneRegions = []string{"CN", "JP", "KR", "AU", "NZ", "BR", "MX", "AR", "CO", "CL", "PE", "ES", "IT", "PT", "NL", "BE", "CH", "AT", "IE",
	"SE", "NO", "DK", "FI", "PL", "CZ", "HU", "RO", "GR", "TR", "RU", "UA", "ZA", "NG", "KE", "EG", "MA", "AE", "SA", "IL", "PK", "BD",
	"ID", "MY", "SG", "PH", "TH", "VN", "HK", "TW"}

// regionWords maps a region to words that, present in the text, make a
// national number of that region more likely.
var regionWords = map[string][]string{
	"CN": {"china", "chinese", "beijing", "shanghai", "shenzhen", "guangzhou"},
	"JP": {"japan", "japanese", "tokyo", "osaka"}, "KR": {"korea", "seoul"},
	"AU": {"australia", "sydney", "melbourne", "brisbane"}, "NZ": {"new zealand", "auckland"},
	"BR": {"brazil", "brasil", "são paulo", "rio de janeiro"}, "MX": {"mexico", "méxico"},
	"ES": {"spain", "españa", "madrid", "barcelona"}, "IT": {"italy", "italia", "rome", "roma", "milan", "milano"},
	"PT": {"portugal", "lisbon", "lisboa"}, "NL": {"netherlands", "nederland", "amsterdam", "rotterdam"},
	"BE": {"belgium", "brussels", "belgique"}, "CH": {"switzerland", "schweiz", "suisse", "zürich", "zurich", "geneva"},
	"AT": {"austria", "österreich", "vienna", "wien"}, "IE": {"ireland", "dublin"},
	"SE": {"sweden", "stockholm"}, "NO": {"norway", "oslo"}, "DK": {"denmark", "copenhagen"}, "FI": {"finland", "helsinki"},
	"PL": {"poland", "polska", "warsaw"}, "ZA": {"south africa", "johannesburg", "cape town"},
	"RU": {"russia", "moscow"}, "TR": {"turkey", "türkiye", "istanbul"}, "SG": {"singapore"}, "HK": {"hong kong"},
}

// phoneContext are words that make a digit group a phone number.
var phoneContext = []string{"phone", "tel", "telephone", "mobile", "cell", "call", "fax", "whatsapp", "sms", "text me", "dial", "contact", "reach", "ring", "landline", "hotline", "my number", "number is", "office line", "direct line", "cellphone", "handy", "téléphone", "telefon", "telefono", "teléfono"}

// phoneNegContext are words right before a number that make it something
// else (an order or a postcode) unless a phone word is near too.
var phoneNegContext = []string{"order", "invoice", "isbn", "issn", "ref", "reference", "tracking", "serial", "sku", "zip", "postal", "postcode",
	"plz", "transaction", "receipt", "confirmation", "booking", "ticket", "case", "version", "patent", "account", "acct", "iban", "routing",
	"policy", "member", "customer", "id", "batch", "lot", "part", "model", "item", "invoice", "vin", "passport", "licence", "license", "epoch", "unix", "timestamp", "ts", "time", "population", "balance", "amount", "total", "isbn-13", "isbn-10"}

// addressBefore are words that, right before a number, make it part of a
// street address (a flat or a box), not a phone number.
var addressBefore = []string{"apt", "apartment", "suite", "ste", "unit", "flat", "floor", "room", "rm", "box", "no", "nr", "nº", "building", "bldg", "house", "lot", "km"}

// streetSuffixes end a street name ("12 Baker Street"): a number followed
// by a street name is a house number.
var streetSuffixes = map[string]bool{
	"street": true, "st": true, "avenue": true, "ave": true, "av": true, "road": true, "rd": true, "boulevard": true, "blvd": true,
	"lane": true, "ln": true, "drive": true, "dr": true, "way": true, "ways": true, "court": true, "ct": true, "place": true, "pl": true,
	"square": true, "sq": true, "terrace": true, "parkway": true, "pkwy": true, "highway": true, "hwy": true, "circle": true, "cir": true,
	"trail": true, "trl": true, "alley": true, "crescent": true, "close": true, "plaza": true, "row": true, "walk": true, "mews": true,
	"strasse": true, "straße": true, "str": true, "gasse": true, "weg": true, "platz": true, "allee": true, "rue": true, "via": true,
	"viale": true, "calle": true, "avenida": true, "rua": true, "laan": true, "straat": true, "gracht": true, "plein": true,
	"pike": true, "loop": true, "run": true, "point": true, "ridge": true, "green": true, "park": true, "gardens": true, "hill": true,
}

// scanCtx is per-Scan state shared by the recognisers: the text and what
// was learnt from it once (phone region hints).
type scanCtx struct {
	text      string
	hintsDone bool
	hints     []string
	lower     string
	memo      *Memo
}

// Memo keeps libphonenumber's verdicts on digit strings (per region, and
// for international numbers) between scans of overlapping texts: a stream
// re-scans its last bytes with every event, and the same candidates came
// up before. The verdicts depend on the digits alone, so results are the
// same with or without a Memo. A Memo is not safe for concurrent use; it
// holds at most maxMemo verdicts (then starts over).
type Memo struct {
	facts map[string]*phoneFacts
}

const maxMemo = 512

// phoneFacts are the verdicts on one digit string for one region (or
// international): computed when first asked.
type phoneFacts struct {
	num                              *phonenumbers.PhoneNumber
	valid                            bool
	mobile, possible, region, valid2 int8 // 0 unknown, 1 true, -1 false
}

func tri(b bool) int8 {
	if b {
		return 1
	}
	return -1
}

func (f *phoneFacts) isMobile() bool {
	if f.mobile == 0 {
		f.mobile = tri(isMobile(f.num))
	}
	return f.mobile > 0
}

func (f *phoneFacts) isPossible() bool {
	if f.possible == 0 {
		f.possible = tri(phonenumbers.IsPossibleNumber(f.num))
	}
	return f.possible > 0
}

func (f *phoneFacts) hasRegion() bool {
	if f.region == 0 {
		f.region = tri(phonenumbers.GetRegionCodeForNumber(f.num) != "")
	}
	return f.region > 0
}

// isValid is IsValidNumber (any region), for international numbers.
func (f *phoneFacts) isValid() bool {
	if f.valid2 == 0 {
		f.valid2 = tri(phonenumbers.IsValidNumber(f.num))
	}
	return f.valid2 > 0
}

// lookup returns the memoised facts under key (nil when absent), or
// stores f under it.
func (cx *scanCtx) lookup(key []byte) *phoneFacts {
	if cx.memo == nil || cx.memo.facts == nil {
		return nil
	}
	return cx.memo.facts[string(key)]
}

func (cx *scanCtx) store(key []byte, f *phoneFacts) {
	if cx.memo == nil {
		return
	}
	if cx.memo.facts == nil || len(cx.memo.facts) >= maxMemo {
		cx.memo.facts = make(map[string]*phoneFacts, 32)
	}
	cx.memo.facts[string(key)] = f
}

// national is the facts of the national number of region r made of
// digits (nil when r has no such number).
func (cx *scanCtx) national(digits []byte, r string, written bool) *phoneFacts {
	var kb [48]byte
	key := append(append(append(kb[:0], digits...), ' '), r...)
	if written {
		key = append(key, '*')
	}
	if f := cx.lookup(key); f != nil {
		return f
	}
	f := &phoneFacts{num: nationalNumber(digits, r, written)}
	if f.num != nil {
		f.valid = phonenumbers.IsValidNumberForRegion(f.num, r)
	}
	cx.store(key, f)
	return f
}

// international is the facts of an international number written as s
// ("+49 30 ..."; num nil when it does not parse).
func (cx *scanCtx) international(s string) *phoneFacts {
	var kb [64]byte
	key := append(append(kb[:0], '+', ' '), s...)
	if f := cx.lookup(key); f != nil {
		return f
	}
	f := &phoneFacts{}
	if num, err := phonenumbers.Parse(s, "ZZ"); err == nil {
		f.num = num
	}
	cx.store(key, f)
	return f
}

// regionHints are the regions of the text's international numbers
// ("+49 ..." hints DE for the text's national numbers).
func (cx *scanCtx) regionHints() []string {
	if cx.hintsDone {
		return cx.hints
	}
	cx.hintsDone = true
	t := cx.text
	for i := 0; i < len(t) && len(cx.hints) < 4; i++ {
		if t[i] != '+' || i+1 >= len(t) || !isDigit(t[i+1]) {
			continue
		}
		cc := 0
		for k := 1; k <= 3 && i+k < len(t) && isDigit(t[i+k]); k++ {
			cc = cc*10 + int(t[i+k]-'0')
			if r := phonenumbers.GetRegionCodeForCountryCode(cc); r != "" && r != "ZZ" {
				if !containsStr(cx.hints, r) {
					cx.hints = append(cx.hints, r)
				}
				break
			}
		}
	}
	return cx.hints
}

// mentions reports whether the text names region r.
func (cx *scanCtx) mentions(r string) bool {
	ws := regionWords[r]
	if len(ws) == 0 {
		return false
	}
	if cx.lower == "" {
		cx.lower = strings.ToLower(cx.text)
	}
	for _, w := range ws {
		if strings.Contains(cx.lower, w) {
			return true
		}
	}
	return false
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// validatePhone tries the candidate and, when it fails, the spans of its
// whitespace-separated parts (longest first), so that a phone number next
// to another number ("room 12 212-555-0147") is still found.
func (s *Scanner) validatePhone(cx *scanCtx, start, end int) []cand {
	text := cx.text
	// part boundaries
	var parts [][2]int
	for i := start; i < end && len(parts) < 12; {
		for i < end && text[i] == ' ' {
			i++
		}
		j := i
		for j < end && text[j] != ' ' {
			j++
		}
		if j > i {
			parts = append(parts, [2]int{i, j})
		}
		i = j
	}
	// a first part glued to a word ("km2 030 ...") is not the number's
	for len(parts) > 1 && parts[0][0] > 0 && isAlnum(text[parts[0][0]-1]) {
		parts = parts[1:]
	}
	n := len(parts)
	if n == 0 {
		return nil
	}
	start = parts[0][0]
	if negated(text, parts[0][0], phoneNegContext, phoneContext) {
		return nil
	}
	if c, ok := s.phoneAt(cx, parts[0][0], parts[n-1][1]); ok {
		return []cand{c}
	}
	// A run of plain digit groups ("4297 0847 8551 2495") is one number:
	// no phone hides inside it.
	plain := true
	for i := start; i < end && plain; i++ {
		plain = isDigit(text[i]) || text[i] == ' '
	}
	if plain {
		return nil
	}
	// Sub-spans dropping up to 3 parts on either side, longest first.
	for drop := 1; drop < n && drop <= 8; drop++ {
		for lead := 0; lead <= drop; lead++ {
			trail := drop - lead
			if lead > 3 || trail > 5 {
				continue
			}
			i, j := lead, n-1-trail
			if j < i {
				continue
			}
			if c, ok := s.phoneAt(cx, parts[i][0], parts[j][1]); ok {
				out := []cand{c}
				if trail > 0 { // the rest may hold another number
					out = append(out, s.validatePhone(cx, parts[j+1][0], parts[n-1][1])...)
				}
				return out
			}
		}
	}
	return nil
}

// phoneAt decides whether text[start:end] is a phone number.
func (s *Scanner) phoneAt(cx *scanCtx, start, end int) (cand, bool) {
	text := cx.text
	// Unbalanced parentheses at the edges belong to the prose.
	for end > start && (text[end-1] == ')' && strings.Count(text[start:end], "(") < strings.Count(text[start:end], ")") || text[end-1] == '.' || text[end-1] == '-' || text[end-1] == ' ') {
		end--
	}
	for start < end && (text[start] == '(' && strings.Count(text[start:end], "(") > strings.Count(text[start:end], ")") || text[start] == ' ' || text[start] == '.' || text[start] == '-') {
		start++
	}
	if end-start < 7 {
		return cand{}, false
	}
	c := text[start:end]
	core := c
	if strings.ContainsAny(c, "xXeE#") {
		if loc := reExt.FindStringIndex(c); loc != nil && loc[0] > 0 {
			core = c[:loc[0]]
		}
	}
	var dg [24]byte
	digits := dg[:0]
	groups := 0
	maxGroup, curGroup := 0, 0
	for i := 0; i < len(core); i++ {
		if isDigit(core[i]) {
			if len(digits) < cap(dg) {
				digits = append(digits, core[i])
			}
			curGroup++
			if curGroup == 1 {
				groups++
			}
			if curGroup > maxGroup {
				maxGroup = curGroup
			}
		} else {
			curGroup = 0
		}
	}
	nd := len(digits)
	if nd < 7 || nd > 17 || groups > 7 || strings.Count(core, "(") != strings.Count(core, ")") {
		return cand{}, false
	}
	if !boundedAt(text, start, end) {
		return cand{}, false
	}
	if start > 0 {
		switch text[start-1] {
		case '#', '$', '+', '=', '/', '\\', '@', '_':
			if core[0] != '+' || text[start-1] == '+' || text[start-1] == '@' {
				return cand{}, false
			}
		}
		if strings.HasSuffix(text[:start], "€") || strings.HasSuffix(text[:start], "£") {
			return cand{}, false
		}
	}
	if end < len(text) && (text[end] == '%' || text[end] == '@' || text[end] == '/' && end+1 < len(text) && isDigit(text[end+1])) {
		return cand{}, false
	}
	if notPhoneShape(core, digits, groups) {
		return cand{}, false
	}
	intl, body := internationalBody(core)
	var inum *phoneFacts
	if intl {
		inum = cx.international(body + c[len(core):])
		if inum.num == nil || !inum.isPossible() {
			if strings.HasPrefix(core, "+") || strings.HasPrefix(core, "(+") {
				return cand{}, false
			}
			intl = false // "008-169-6120": a national number after all
		}
	}
	if intl {
		score := 0.6
		if inum.isValid() {
			score = 0.75
		}
		if core[0] != '+' && core[0] != '(' { // 00 / 001 prefix
			score -= 0.1
		}
		return cand{start, end, score}, true
	}
	if inAddress(text, start, end) {
		return cand{}, false
	}
	best := 0.0
	try := func(r string, configured bool) {
		written := trunkWritten(digits, r)
		if !written && nd < 10 {
			return
		}
		num := cx.national(digits, r, written)
		if num.num == nil {
			return
		}
		valid := num.valid
		if !written && !(valid && num.isMobile()) {
			return // national numbers carry the trunk prefix; mobiles of India or China may not
		}
		shaped := phoneShaped(core, digits, groups, r)
		score := 0.0
		switch {
		case valid:
			score = 0.6
			if groups == 1 {
				score = 0.45
			}
			if !configured {
				score = 0.4
				if shaped || cx.mentions(r) {
					score = 0.5
				}
			}
		case configured && shaped && !phonenumbers.IsNANPACountry(r) && num.isPossible() && num.hasRegion() ||
			configured && phonenumbers.IsNANPACountry(r) && nanpGrouped(core):
			score = 0.5
			if strings.Contains(core, "(") || len(core) < len(c) {
				score = 0.55
			}
		default:
			// not valid: a grouped number of the region's length still
			// counts with a context word
			if configured && (shaped || written && nddPrefix[r] != "") && num.isPossible() {
				score = 0.3
			}
		}
		if !trunkWritten(digits, r) && score > 0.45 && !(shaped && len(digits) >= 10) {
			score = 0.45 // an ungrouped mobile written without its trunk prefix
		}
		if nd < 9 && score > 0.3 {
			score = 0.3 // short local numbers need a context word
		}
		if score > best {
			best = score
		}
	}
	for _, r := range s.regions {
		try(r, true)
	}
	for _, r := range cx.regionHints() {
		if !containsStr(s.regions, r) {
			try(r, true)
		}
	}
	if best < 0.5 && nd >= 8 {
		for _, r := range extraPhoneRegions {
			if best >= 0.5 {
				break
			}
			if !containsStr(s.regions, r) && !containsStr(cx.hints, r) {
				try(r, false)
			}
		}
	}
	if best == 0 && nd >= 8 && nd <= 13 && (groups >= 3 || strings.Contains(core, "(") || groups == 2 && (digits[0] == '0' || digits[0] == '1')) {
		// Grouped like a phone number but valid nowhere we tried (random
		// digits, a region not in the lists): a phone word near it
		// still makes it one (0.15 + the context boost reaches the
		// default minimum, nothing less does).
		best = 0.15
	}
	if best == 0 {
		return cand{}, false
	}
	return cand{start, end, best}, true
}

// internationalBody reports whether core is written with an international
// prefix ("+", "00" or "011") and returns it with a '+' instead.
func internationalBody(core string) (bool, string) {
	t := strings.TrimLeft(core, "(")
	switch {
	case strings.HasPrefix(t, "+"):
		return true, t
	case strings.HasPrefix(t, "00") && len(t) > 3 && t[2] != '0' && t[2] != ' ' && t[2] != '-':
		return true, "+" + t[2:]
	case strings.HasPrefix(t, "011") && len(t) > 4 && t[3] != '0' && t[3] != ' ':
		return true, "+" + t[3:]
	}
	return false, core
}

// nationalNumber builds region r's number from the digits of a national
// candidate (the trunk prefix stripped when written), as libphonenumber's
// Parse would for plain national formats, without parsing the text again
// for every region tried.
func nationalNumber(digits []byte, r string, written bool) *phonenumbers.PhoneNumber {
	cc := int32(phonenumbers.GetCountryCodeForRegion(r))
	if cc == 0 {
		return nil
	}
	d := digits
	if phonenumbers.IsNANPACountry(r) {
		if len(d) == 11 && d[0] == '1' {
			d = d[1:]
		}
	} else if ndd := nddPrefix[r]; ndd != "" && written {
		d = d[len(ndd):]
	}
	if len(d) == 0 || len(d) > 17 {
		return nil
	}
	var nn uint64
	zeros := int32(0)
	for i, b := range d {
		if b == '0' && int32(i) == zeros {
			zeros++
		}
		nn = nn*10 + uint64(b-'0')
	}
	num := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &nn}
	if zeros > 0 && zeros < int32(len(d)) {
		t := true
		num.ItalianLeadingZero = &t
		if zeros > 1 {
			num.NumberOfLeadingZeros = &zeros
		}
	}
	return num
}

func isMobile(num *phonenumbers.PhoneNumber) bool {
	t := phonenumbers.GetNumberType(num)
	return t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
}

// nddPrefix caches the trunk prefix per region ("" for NANP, which may
// omit its "1").
var nddPrefix = func() map[string]string {
	m := map[string]string{}
	for r := range phonenumbers.GetSupportedRegions() {
		if !phonenumbers.IsNANPACountry(r) {
			m[r] = phonenumbers.GetNddPrefixForRegion(r, true)
		}
	}
	return m
}()

// trunkWritten reports whether a national number is written with region
// r's trunk prefix (or r has none).
func trunkWritten(digits []byte, r string) bool {
	ndd := nddPrefix[r]
	return ndd == "" || len(digits) >= len(ndd) && string(digits[:len(ndd)]) == ndd
}

// phoneShaped reports whether a national candidate is grouped like a
// phone number: two or more groups (or parentheses around the area code),
// no group longer than 8 digits.
func phoneShaped(core string, digits []byte, groups int, r string) bool {
	if strings.Contains(core, "(") {
		return true
	}
	if groups < 2 {
		// an 11-digit Chinese-style mobile reads as one group
		return r == "CN" && len(digits) == 11 && digits[0] == '1'
	}
	return true
}

// notPhoneShape rejects candidates that are something else: dates, year
// ranges, IP addresses, SSN-shaped numbers, ISBNs, decimal numbers and
// coordinates.
func notPhoneShape(core string, digits []byte, groups int) bool {
	if reDate.MatchString(core) || reYearRange.MatchString(core) {
		return true
	}
	if _, err := netip.ParseAddr(core); err == nil {
		return true
	}
	gs := splitGroups(core)
	if len(gs) == 3 && len(gs[0]) == 3 && len(gs[1]) == 2 && len(gs[2]) == 4 && core[0] != '(' {
		return true // SSN shape
	}
	if len(gs) == 2 && len(gs[0]) == 5 && len(gs[1]) == 4 && core[0] != '(' {
		return true // US ZIP+4
	}
	if isbnLike(digits, groups) && (len(digits) == 13 || strings.Contains(core, "-") && !strings.ContainsAny(core, " .()")) {
		return true
	}
	if strings.Contains(core, ".") {
		if len(gs) < 3 {
			return true
		}
		for _, g := range gs {
			if len(g) < 2 || len(g) > 4 {
				return true
			}
		}
	}
	return false
}

var reYearRange = regexp.MustCompile(`^\(?(?:1[6-9]|20)\d\d\)? ?[-–./]? ?\(?(?:1[6-9]|20)\d\d\)?$`)

// splitGroups splits a candidate into its digit groups.
func splitGroups(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j > i {
			out = append(out, s[i:j])
		}
		i = j
	}
	return out
}

// isbnLike reports whether digits are an ISBN-13 (978/979 with a valid
// check digit) or a hyphenated ISBN-10.
func isbnLike(d []byte, groups int) bool {
	if len(d) == 13 && (string(d[:3]) == "978" || string(d[:3]) == "979") {
		sum := 0
		for i := 0; i < 13; i++ {
			v := int(d[i] - '0')
			if i%2 == 1 {
				v *= 3
			}
			sum += v
		}
		return sum%10 == 0
	}
	if len(d) == 10 && groups == 4 {
		sum := 0
		for i := 0; i < 10; i++ {
			sum += (10 - i) * int(d[i]-'0')
		}
		return sum%11 == 0
	}
	return false
}

// inAddress reports whether a number stands in a street address: after a
// flat/box word, or followed by a street name ending in a street suffix
// ("10452 Smith Ways").
func inAddress(text string, start, end int) bool {
	// previous word
	i := start - 1
	for i >= 0 && (text[i] == ' ' || text[i] == '.' || text[i] == ',' || text[i] == '#' || text[i] == ':') {
		i--
	}
	j := i
	for i >= 0 && isAlnum(text[i]) {
		i--
	}
	if j > i {
		w := strings.ToLower(text[i+1 : j+1])
		for _, a := range addressBefore {
			if w == a {
				return true
			}
		}
	}
	// next up to three words: capitalised names then a suffix
	k := end
	for n := 0; n < 4 && k < len(text); n++ {
		for k < len(text) && (text[k] == ' ' || text[k] == '.') {
			k++
		}
		ws := k
		for k < len(text) && (isAlnum(text[k]) || text[k] >= 0x80) {
			k++
		}
		if k == ws {
			return false
		}
		w := text[ws:k]
		if n > 0 && streetSuffixes[strings.ToLower(w)] {
			return true
		}
		if !(w[0] >= 'A' && w[0] <= 'Z') && !(n > 0 && w[0] >= 0x80) {
			return false
		}
	}
	return false
}

// wordBefore reports whether one of words (lowercase) stands as a word
// within the n bytes before start.
func wordBefore(text string, start, n int, words []string) bool {
	return lastWord(strings.ToLower(text[max(0, start-n):start]), words) >= 0
}

// nanpGrouped reports whether core is written as a North American number:
// an optional leading 1, then 3-3-4 digit groups (the area code maybe in
// parentheses).
func nanpGrouped(core string) bool {
	gs := splitGroups(core)
	if len(gs) == 4 && gs[0] == "1" {
		gs = gs[1:]
	}
	return len(gs) == 3 && len(gs[0]) == 3 && len(gs[1]) == 3 && len(gs[2]) == 4
}
