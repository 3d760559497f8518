// Package piigen generates a seeded, labelled synthetic PII benchmark:
// short texts holding e-mail addresses, phone numbers of many regions and
// formats, payment cards of every brand the recogniser knows, IBANs, US
// SSNs, IP addresses, person names, locations and street addresses, mixed
// with hard negatives that look like them (order numbers, ISBNs,
// timestamps, version strings, coordinates, year ranges, postcodes, prices,
// house numbers, UUIDs, Luhn-invalid card-like numbers).
//
// The same seed always gives the same texts. Gold spans are code-point
// offsets, as rampart's findings are.
package piigen

import (
	"fmt"
	"math/rand"
	"strings"
	"unicode/utf8"
)

// Entity names of the gold spans (the scanner's, Presidio's).
const (
	Email    = "EMAIL_ADDRESS"
	Phone    = "PHONE_NUMBER"
	Card     = "CREDIT_CARD"
	IBAN     = "IBAN_CODE"
	SSN      = "US_SSN"
	IP       = "IP_ADDRESS"
	Person   = "PERSON"
	Location = "LOCATION"
	Address  = "STREET_ADDRESS"
)

// Span is one labelled entity, in code points.
type Span struct {
	Entity string `json:"entity"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
	Value  string `json:"value"`
}

// Example is one labelled text.
type Example struct {
	Text  string `json:"text"`
	Spans []Span `json:"spans"`
}

// builder assembles a text and its spans.
type builder struct {
	b     strings.Builder
	spans []Span
}

func (b *builder) lit(s string) { b.b.WriteString(s) }

func (b *builder) ent(entity, v string) {
	st := utf8.RuneCountInString(b.b.String())
	b.b.WriteString(v)
	b.spans = append(b.spans, Span{Entity: entity, Start: st, End: st + utf8.RuneCountInString(v), Value: v})
}

// piece writes one fragment: an entity with its lead-in, or a negative.
type piece func(r *rand.Rand, b *builder)

// Generate returns n examples for seed. Each example has one to three
// pieces, and about one in three holds hard negatives only.
func Generate(seed int64, n int) []Example {
	r := rand.New(rand.NewSource(seed))
	out := make([]Example, 0, n)
	for i := 0; i < n; i++ {
		var b builder
		k := 1 + r.Intn(3)
		for j := 0; j < k; j++ {
			if j > 0 {
				b.lit(pick(r, []string{" ", ". ", "; ", "\n", ", and ", " Also, "}))
			}
			if r.Intn(3) == 0 {
				negatives[r.Intn(len(negatives))](r, &b)
			} else {
				positives[r.Intn(len(positives))](r, &b)
			}
		}
		b.lit(pick(r, []string{".", "", " Thanks.", " Let me know.", "!", "\n"}))
		out = append(out, Example{Text: b.b.String(), Spans: b.spans})
	}
	return out
}

func pick(r *rand.Rand, xs []string) string { return xs[r.Intn(len(xs))] }

func digits(r *rand.Rand, n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteByte(byte('0' + r.Intn(10)))
	}
	return sb.String()
}

func nz(r *rand.Rand) string { return string(rune('1' + r.Intn(9))) }

// entity fragments: a lead-in (sometimes none), the value, a tail.
func withLead(entity string, leads []string, gen func(r *rand.Rand) string) piece {
	return func(r *rand.Rand, b *builder) {
		b.lit(pick(r, leads))
		b.ent(entity, gen(r))
		b.lit(pick(r, []string{"", " if needed", " (work)", " today", ", please", " for details", " anytime"}))
	}
}

var positives = []piece{
	withLead(Email, []string{"Email me at ", "Contact: ", "Send it to ", "You can reach her at ", "", "his address is ", "cc: ", "Reply-To: ", "Write to "}, genEmail),
	withLead(Email, []string{"Email me at ", "Contact: ", "Send it to ", ""}, genEmail),
	withLead(Phone, []string{"Call me at ", "Phone: ", "Tel. ", "Her mobile is ", "You can reach us on ", "", "Fax: ", "ring ", "WhatsApp ", "my number is ", "Contact number: "}, genPhone),
	withLead(Phone, []string{"Call ", "Phone ", "", "reach him at ", "Cell: "}, genPhone),
	withLead(Phone, []string{"Call ", "", "Office line "}, genPhone),
	withLead(Card, []string{"Card number: ", "Please charge ", "My Visa is ", "Paid with card ", "", "CC: ", "credit card ", "Use the card ending in full: ", "PAN "}, genCard),
	withLead(Card, []string{"card ", "", "charge "}, genCard),
	withLead(IBAN, []string{"IBAN: ", "Transfer to ", "Account ", "", "Wire the funds to ", "Bank account IBAN "}, genIBAN),
	withLead(SSN, []string{"SSN: ", "Social Security Number ", "Her SSN is ", "social security no. ", "SSN#", "Taxpayer SSN "}, genSSN),
	withLead(SSN, []string{"SSN ", "ssn: ", ""}, genSSNDashed),
	withLead(IP, []string{"Server IP: ", "connect to ", "The host at ", "", "client address ", "ping ", "blocked IP "}, genIP),
	withLead(IP, []string{"", "from ", "IP "}, genIP),
	personPiece,
	addressPiece,
}

func genEmail(r *rand.Rand) string {
	first := strings.ToLower(pick(r, givenNames))
	last := strings.ToLower(pick(r, surnames))
	dom := pick(r, []string{"example.com", "mail.example.org", "corp.example.net", "uni.example.edu", "example.co.uk", "example.de", "post.example.fr", "example.io", "example.com.au", "inbox.example.info"})
	switch r.Intn(9) {
	case 0:
		return first + "." + last + "@" + dom
	case 1:
		return first + digits(r, 2) + "@" + dom
	case 2:
		return first[:1] + last + "@" + dom
	case 3:
		return first + "_" + last + "+" + pick(r, []string{"news", "work", "x"}) + "@" + dom
	case 4:
		return strings.ToUpper(first[:1]) + first[1:] + "." + strings.ToUpper(last[:1]) + last[1:] + "@" + dom
	case 5:
		return first + "-" + last + "@" + dom
	case 6:
		return first + "[at]" + strings.TrimSuffix(dom, ".com") + pick(r, []string{"[dot]com", ".com"})
	case 7:
		return first + " (at) " + strings.Replace(dom, ".", " (dot) ", -1)
	default:
		return last + digits(r, 3) + "@" + dom
	}
}

// phone formats: '#' a digit, 'N' a digit 2-9, 'M' a digit 1-9.
var phoneFormats = []string{
	// United States / Canada
	"NMM-NMM-####", "(NMM) NMM-####", "(NMM)NMM-####", "NMM.NMM.####", "1-NMM-NMM-####", "+1 NMM NMM ####", "+1-NMM-NMM-####",
	"001-NMM-NMM-####", "NMM-NMM-####x###", "NMM.NMM.####x##", "(NMM)NMM-####x####", "+1 (NMM) NMM-####", "NMM-NMM-#### ext. ##", "NMMNMM####",
	"###-###-####", "(###)###-####", "###.###.####x###",
	// United Kingdom
	"+44 20 #### ####", "020 #### ####", "+44 (0)20 #### ####", "07### ######", "+447### ######", "+44 7### ### ###", "0161 ### ####", "+44(0)1632 ######",
	// Germany, Austria, Switzerland
	"+49 30 #######", "030 #######", "+49 (0)89 ########", "0151 ########", "(030) ########", "+49 1## #######", "+43 1 ### ####", "+41 (0)44 ### ## ##", "044 ### ## ##", "+41 79 ### ## ##",
	// France, Belgium, Netherlands
	"+33 1 ## ## ## ##", "01 ## ## ## ##", "06.##.##.##.##", "+33 (0)6 ## ## ## ##", "+32 2 ### ## ##", "+31 6 ########", "020-#######",
	// Southern Europe
	"+34 6## ### ###", "+34 91 ### ## ##", "+39 3## ### ####", "+39 06 #### ####", "+351 21 ### ####",
	// India
	"+91 9#### #####", "+91-9#########", "09#########", "+91 11 #### ####",
	// Asia-Pacific, Americas, Africa
	"+61 2 #### ####", "(02) #### ####", "04## ### ###", "+61 4## ### ###", "+86 13# #### ####", "13# #### ####", "+81 3-####-####", "03-####-####",
	"+82 10-####-####", "+65 #### ####", "+852 #### ####", "+55 11 9####-####", "+52 55 #### ####", "+27 82 ### ####", "082 ### ####", "+234 80# ### ####",
	"+64 21 ### ####", "0031 20 #######", "0044 20 #### ####", "0049 30 #######",
}

func fillFormat(r *rand.Rand, f string) string {
	var sb strings.Builder
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '#':
			sb.WriteByte(byte('0' + r.Intn(10)))
		case 'N':
			sb.WriteByte(byte('2' + r.Intn(8)))
		case 'M':
			sb.WriteByte(byte('0' + r.Intn(9)))
		default:
			sb.WriteByte(f[i])
		}
	}
	return sb.String()
}

func genPhone(r *rand.Rand) string {
	s := fillFormat(r, pick(r, phoneFormats))
	// Chinese mobiles start 13x-19x: the third digit is already random.
	return s
}

type cardBrand struct {
	prefixes []string
	lengths  []int
}

var cardBrands = []cardBrand{
	{[]string{"4"}, []int{16, 16, 13, 19}},
	{[]string{"51", "52", "53", "54", "55", "2221", "2720", "23", "26"}, []int{16}},
	{[]string{"34", "37"}, []int{15}},
	{[]string{"6011", "644", "649", "65", "622126", "622925"}, []int{16, 19}},
	{[]string{"3528", "3530", "3566", "3589"}, []int{16, 19}},
	{[]string{"2131", "1800"}, []int{15}},
	{[]string{"300", "305", "36", "38"}, []int{14, 16}},
	{[]string{"62"}, []int{16, 17, 18, 19}},
	{[]string{"2200", "2204"}, []int{16}},
	{[]string{"60", "508", "82"}, []int{16}},
	{[]string{"5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"}, []int{12, 13, 15, 16, 18, 19}},
}

// luhnComplete appends the check digit to the payload.
func luhnComplete(p string) string {
	sum := 0
	double := true
	for i := len(p) - 1; i >= 0; i-- {
		d := int(p[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return p + string(rune('0'+(10-sum%10)%10))
}

func genCardDigits(r *rand.Rand) string {
	cb := cardBrands[r.Intn(len(cardBrands))]
	p := cb.prefixes[r.Intn(len(cb.prefixes))]
	n := cb.lengths[r.Intn(len(cb.lengths))]
	return luhnComplete(p + digits(r, n-1-len(p)))
}

func groupDigits(d string, sizes []int, sep string) string {
	var parts []string
	i := 0
	for _, s := range sizes {
		if i >= len(d) {
			break
		}
		e := i + s
		if e > len(d) {
			e = len(d)
		}
		parts = append(parts, d[i:e])
		i = e
	}
	if i < len(d) {
		parts = append(parts, d[i:])
	}
	return strings.Join(parts, sep)
}

func genCard(r *rand.Rand) string {
	d := genCardDigits(r)
	sep := pick(r, []string{"", "", " ", "-", ".", " ", "/"})
	if sep == "" {
		return d
	}
	if len(d) == 15 && (d[:2] == "34" || d[:2] == "37") {
		return groupDigits(d, []int{4, 6, 5}, sep)
	}
	if len(d) == 14 {
		return groupDigits(d, []int{4, 6, 4}, sep)
	}
	return groupDigits(d, []int{4, 4, 4, 4}, sep)
}

var ibanCountries = []struct {
	cc   string
	bban string // 'n' digit, 'a' upper letter, 'c' alphanumeric
}{
	{"DE", "nnnnnnnnnnnnnnnnnn"}, {"GB", "aaaannnnnnnnnnnnnn"}, {"FR", "nnnnnnnnnnccccccccccnnnn"[:23]}, {"ES", "nnnnnnnnnnnnnnnnnnnn"},
	{"IT", "annnnnnnnnncccccccccccc"}, {"NL", "aaaannnnnnnnnn"}, {"BE", "nnnnnnnnnnnn"}, {"CH", "nnnnnccccccccccccc"[:17]},
	{"AT", "nnnnnnnnnnnnnnnn"}, {"PL", "nnnnnnnnnnnnnnnnnnnnnnnn"}, {"IE", "aaaannnnnnnnnnnnnn"}, {"PT", "nnnnnnnnnnnnnnnnnnnnn"},
	{"SE", "nnnnnnnnnnnnnnnnnnnn"}, {"NO", "nnnnnnnnnnn"}, {"DK", "nnnnnnnnnnnnnn"}, {"FI", "nnnnnnnnnnnnnn"},
}

func genIBAN(r *rand.Rand) string {
	c := ibanCountries[r.Intn(len(ibanCountries))]
	var sb strings.Builder
	for _, k := range c.bban {
		switch k {
		case 'n':
			sb.WriteByte(byte('0' + r.Intn(10)))
		case 'a':
			sb.WriteByte(byte('A' + r.Intn(26)))
		default:
			if r.Intn(2) == 0 {
				sb.WriteByte(byte('0' + r.Intn(10)))
			} else {
				sb.WriteByte(byte('A' + r.Intn(26)))
			}
		}
	}
	bban := sb.String()
	chk := 98 - mod97(bban+c.cc+"00")
	iban := fmt.Sprintf("%s%02d%s", c.cc, chk, bban)
	if r.Intn(2) == 0 {
		return groupDigits(iban, []int{4, 4, 4, 4, 4, 4, 4, 4}, " ")
	}
	return iban
}

func mod97(s string) int {
	rem := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	return rem
}

func ssnParts(r *rand.Rand) (string, string, string) {
	area := 1 + r.Intn(899)
	for area == 666 {
		area = 1 + r.Intn(899)
	}
	return fmt.Sprintf("%03d", area), fmt.Sprintf("%02d", 1+r.Intn(99)), fmt.Sprintf("%04d", 1+r.Intn(9999))
}

func genSSN(r *rand.Rand) string {
	a, g, s := ssnParts(r)
	switch r.Intn(5) {
	case 0:
		return a + " " + g + " " + s
	case 1:
		return a + g + s
	case 2:
		return a + "." + g + "." + s
	default:
		return a + "-" + g + "-" + s
	}
}

func genSSNDashed(r *rand.Rand) string {
	a, g, s := ssnParts(r)
	return a + "-" + g + "-" + s
}

func genIP(r *rand.Rand) string {
	switch r.Intn(6) {
	case 0:
		return fmt.Sprintf("10.%d.%d.%d", r.Intn(256), r.Intn(256), 1+r.Intn(254))
	case 1:
		return fmt.Sprintf("192.168.%d.%d", r.Intn(256), 1+r.Intn(254))
	case 2:
		return fmt.Sprintf("2001:db8:%x:%x::%x", r.Intn(65536), r.Intn(65536), 1+r.Intn(65535))
	case 3:
		return fmt.Sprintf("fe80::%x:%x:%x:%x", r.Intn(65536), r.Intn(65536), r.Intn(65536), r.Intn(65536))
	case 4:
		return fmt.Sprintf("2a02:%x:%x:%x:%x:%x:%x:%x", r.Intn(65536), r.Intn(65536), r.Intn(65536), r.Intn(65536), r.Intn(65536), r.Intn(65536), r.Intn(65536))
	default:
		return fmt.Sprintf("%d.%d.%d.%d", 11+r.Intn(212), r.Intn(256), r.Intn(256), 1+r.Intn(254))
	}
}

func personPiece(r *rand.Rand, b *builder) {
	b.lit(pick(r, []string{"My name is ", "Patient: ", "Signed, ", "Please ask ", "Dear ", "According to ", "Contact person: ", "Meeting with "}))
	name := pick(r, givenNames) + " " + pick(r, surnames)
	if r.Intn(4) == 0 {
		name = pick(r, []string{"Mr. ", "Ms. ", "Dr. ", "Mrs. "}) + pick(r, surnames)
	}
	b.ent(Person, name)
	b.lit(pick(r, []string{"", " from accounting", " will call back", ", who moved to "}))
	if strings.HasSuffix(b.b.String(), "to ") {
		b.ent(Location, pick(r, cities))
	}
}

func addressPiece(r *rand.Rand, b *builder) {
	b.lit(pick(r, []string{"Ship to ", "Address: ", "She lives at ", "Our office is at ", "Mail the form to "}))
	street := fmt.Sprintf("%d %s %s", 1+r.Intn(19999), pick(r, surnames), pick(r, []string{"Street", "St.", "Avenue", "Ave", "Road", "Rd.", "Lane", "Drive", "Boulevard", "Way", "Court"}))
	if r.Intn(3) == 0 {
		street += pick(r, []string{" Apt. ", " Suite ", " Unit "}) + fmt.Sprint(1+r.Intn(999))
	}
	b.ent(Address, street)
	b.lit(", ")
	b.ent(Location, pick(r, cities))
	b.lit(fmt.Sprintf(" %s %05d", pick(r, []string{"NY", "CA", "TX", "WA", "IL", "MA"}), r.Intn(99999)))
	if r.Intn(3) == 0 {
		b.lit(fmt.Sprintf("-%04d", r.Intn(9999)))
	}
}

// negatives: text that looks like an entity and is not one.
var negatives = []piece{
	func(r *rand.Rand, b *builder) {
		b.lit(pick(r, []string{"Order #", "Order number ", "Invoice ", "Ref: ", "Tracking number ", "Confirmation code ", "Ticket ", "Case ID "}) + nz(r) + digits(r, 6+r.Intn(7)))
	},
	func(r *rand.Rand, b *builder) {
		p := pick(r, []string{"978", "979"}) + digits(r, 9)
		sum := 0
		for i := 0; i < 12; i++ {
			v := int(p[i] - '0')
			if i%2 == 1 {
				v *= 3
			}
			sum += v
		}
		d := p + string(rune('0'+(10-sum%10)%10))
		if r.Intn(2) == 0 {
			d = d[:3] + "-" + d[3:4] + "-" + d[4:8] + "-" + d[8:12] + "-" + d[12:]
		}
		b.lit(pick(r, []string{"ISBN ", "ISBN-13: ", "the book (", "see "}) + d)
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("%s %d-%02d-%02d %02d:%02d:%02d", pick(r, []string{"Logged at", "Created", "at", "Timestamp:"}), 2000+r.Intn(26), 1+r.Intn(12), 1+r.Intn(28), r.Intn(24), r.Intn(60), r.Intn(60)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("%s %d", pick(r, []string{"epoch", "unix time", "ts="}), 1500000000+r.Intn(300000000)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("%s %d.%d.%d", pick(r, []string{"upgrade to version", "release", "v", "Chrome"}), r.Intn(130), r.Intn(20), r.Intn(6000)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("%s %d.%d.%d.%d", pick(r, []string{"version", "build", "firmware"}), 1+r.Intn(9), r.Intn(10), r.Intn(10), r.Intn(10)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("coordinates %.4f, %.4f", -90+r.Float64()*180, -180+r.Float64()*360))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("located at %.6f %.6f", -90+r.Float64()*180, -180+r.Float64()*360))
	},
	func(r *rand.Rand, b *builder) {
		y := 1960 + r.Intn(60)
		b.lit(fmt.Sprintf("%s %d-%d", pick(r, []string{"worked there", "from", "in the years", "season"}), y, y+1+r.Intn(10)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("the price is $%d,%03d.%02d", 1+r.Intn(99), r.Intn(1000), r.Intn(100)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("postcode %04d-%03d", 1000+r.Intn(9000), r.Intn(1000)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("ZIP %05d %04d", r.Intn(99999), r.Intn(9999)))
	},
	func(r *rand.Rand, b *builder) {
		// a house number (no phone) in a labelled street address
		b.lit("at ")
		b.ent(Address, fmt.Sprintf("%d %s Ways", 100+r.Intn(19900), pick(r, surnames)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("id %08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Intn(65536), r.Intn(65536), r.Intn(65536), r.Int63n(1<<48)))
	},
	func(r *rand.Rand, b *builder) {
		d := genCardDigits(r)
		last := (int(d[len(d)-1]-'0') + 1 + r.Intn(9)) % 10
		b.lit("ref " + groupDigits(d[:len(d)-1]+string(rune('0'+last)), []int{4, 4, 4, 4}, " "))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("on %02d/%02d/%d and %02d.%02d.%d", 1+r.Intn(12), 1+r.Intn(28), 1990+r.Intn(35), 1+r.Intn(28), 1+r.Intn(12), 1990+r.Intn(35)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("population %d and area %d km2", 100000+r.Intn(90000000), 100+r.Intn(900000)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("account balance %d.%02d", r.Intn(10000000), r.Intn(100)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("Part no. %s-%s-%s", digits(r, 3), digits(r, 3), digits(r, 4)))
	},
	func(r *rand.Rand, b *builder) {
		b.lit(fmt.Sprintf("look at the docs, it is at %s.com", strings.ToLower(pick(r, surnames))))
	},
}
