package pii

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

type sample struct {
	entity, kind, text, want string
	line                     int
}

func loadSamples(t testing.TB) []sample {
	t.Helper()
	f, err := os.Open("testdata/samples.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 4 {
			t.Fatalf("samples.tsv:%d: want 4 tab-separated fields, got %d", n, len(p))
		}
		out = append(out, sample{p[0], p[1], p[2], p[3], n})
	}
	if len(out) < 50 {
		t.Fatalf("only %d samples loaded", len(out))
	}
	return out
}

func TestSamples(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadSamples(t) {
		ms := s.Scan(c.text)
		switch c.kind {
		case "tp":
			ok := false
			for _, m := range ms {
				if m.Entity == c.entity && c.text[m.Start:m.End] == c.want {
					ok = true
				}
			}
			if !ok {
				t.Errorf("line %d: %s not found in %q; got %s", c.line, c.entity, c.text, describe(c.text, ms))
			}
		case "fp":
			for _, m := range ms {
				if c.entity == "ANY" || m.Entity == c.entity {
					t.Errorf("line %d: false positive %s %q (score %.2f) in %q", c.line, m.Entity, c.text[m.Start:m.End], m.Score, c.text)
				}
			}
		default:
			t.Fatalf("line %d: kind %q", c.line, c.kind)
		}
	}
}

func describe(text string, ms []Match) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Entity + "=" + text[m.Start:m.End] + " ")
	}
	return "[" + b.String() + "]"
}

func TestContextRaisesScore(t *testing.T) {
	s, _ := New(Config{MinScore: 0.01})
	score := func(text string) float64 {
		for _, m := range s.Scan(text) {
			if m.Entity == IPAddress {
				return m.Score
			}
		}
		return 0
	}
	plain, ctx := score("see 1.2.3.4 here"), score("the server ip is 1.2.3.4 here")
	if plain == 0 || ctx <= plain {
		t.Fatalf("context did not raise score: plain %.2f, with context %.2f", plain, ctx)
	}
	// Version-like IPs without context stay under the default threshold.
	d, _ := New(Config{})
	for _, m := range d.Scan("see 1.2.3.4 here") {
		t.Fatalf("unexpected match %+v", m)
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{Entities: []string{"NOPE"}}); err == nil {
		t.Error("unknown entity accepted")
	}
	if _, err := New(Config{PhoneRegions: []string{"QQ"}}); err == nil {
		t.Error("unknown region accepted")
	}
	if _, err := New(Config{MinScore: 2}); err == nil {
		t.Error("min_score 2 accepted")
	}
	if _, err := New(Config{ContextWords: map[string][]string{"X": {"y"}}}); err == nil {
		t.Error("context words for unknown entity accepted")
	}
	s, err := New(Config{Entities: []string{Email}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Scan("a@example.com 4111 1111 1111 1111") {
		if m.Entity != Email {
			t.Errorf("disabled entity reported: %s", m.Entity)
		}
	}
	// Regions: a national French number scores higher when FR is
	// configured; without FR it is valid only in regions tried by shape,
	// which score lower.
	us, _ := New(Config{Entities: []string{Phone}, PhoneRegions: []string{"US"}})
	fr, _ := New(Config{Entities: []string{Phone}, PhoneRegions: []string{"fr"}})
	txt := "phone 01 42 68 53 00"
	if u, f := us.Scan(txt), fr.Scan(txt); len(f) != 1 || len(u) == 1 && u[0].Score >= f[0].Score {
		t.Errorf("region handling: US %v FR %v", u, f)
	}
	// Extra context words.
	cw, _ := New(Config{Entities: []string{IPAddress}, ContextWords: map[string][]string{IPAddress: {"Knoten"}}})
	if len(cw.Scan("Knoten 1.2.3.4")) != 1 {
		t.Error("configured context word did not raise score")
	}
}

func TestCodePointOffsets(t *testing.T) {
	text := "héllo ✓ a@b.co"
	got := CodePointOffsets(text, 0, 2, 3, len(text), -5, 999)
	want := []int{0, 2, 2, utf8.RuneCountInString(text), 0, utf8.RuneCountInString(text)}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("CodePointOffsets = %v, want %v", got, want)
		}
	}
	s, _ := New(Config{})
	ms := s.Scan(text)
	if len(ms) != 1 {
		t.Fatalf("got %v", ms)
	}
	if cp := CodePointOffset(text, ms[0].Start); cp != 8 {
		t.Fatalf("email starts at code point %d, want 8", cp)
	}
}

func TestChecksums(t *testing.T) {
	if !luhn([]byte("79927398713")) || luhn([]byte("79927398710")) {
		t.Error("luhn")
	}
	if !ibanValid("DE89370400440532013000") || ibanValid("DE89370400440532013001") || ibanValid("DE8937040044053201300") {
		t.Error("iban")
	}
	if !bech32AddressValid("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4") {
		t.Error("bech32 uppercase")
	}
	if bech32AddressValid("bc1QW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") {
		t.Error("bech32 mixed case accepted")
	}
	if !eip55Valid("fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359") || eip55Valid("fb6916095ca1df60bB79Ce92cE3Ea74c37c5d359") {
		t.Error("eip55")
	}
}

func TestWindows(t *testing.T) {
	if w := windows("no digits here at all"); len(w) != 0 {
		t.Fatalf("windows on clean text: %v", w)
	}
	text := "iban GB82 WEST 1234 5698 7654 32 thanks"
	w := windows(text)
	if len(w) != 1 || text[w[0][0]:w[0][1]] != "GB82 WEST 1234 5698 7654 32" {
		t.Fatalf("windows = %v", w)
	}
}

// The offsets every match reports must be inside the text and on UTF-8
// boundaries, whatever the input.
func checkMatches(t *testing.T, text string, ms []Match) {
	for _, m := range ms {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			t.Fatalf("bad span %+v for %q", m, text)
		}
		if utf8.ValidString(text) && !utf8.RuneStart(text[m.Start]) || utf8.ValidString(text) && m.End < len(text) && !utf8.RuneStart(text[m.End]) {
			t.Fatalf("span %+v splits a UTF-8 sequence in %q", m, text)
		}
		if m.Score < DefaultMinScore || m.Score > 1 {
			t.Fatalf("score %v out of range", m.Score)
		}
	}
}

func fuzzEntity(f *testing.F, entity string) {
	for _, c := range loadSamples(f) {
		if c.entity == entity || c.entity == "ANY" {
			f.Add(c.text)
		}
	}
	s, err := New(Config{Entities: []string{entity}})
	if err != nil {
		f.Fatal(err)
	}
	low, err := New(Config{Entities: []string{entity}, MinScore: 0.01})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ms := s.Scan(text)
		checkMatches(t, text, ms)
		for _, m := range ms {
			if m.Entity != entity {
				t.Fatalf("entity %s from a %s-only scanner", m.Entity, entity)
			}
			// A match found in the text is found again on its own.
			again := low.Scan(text[m.Start:m.End]) // without its context words
			if len(again) == 0 && entity != Phone && entity != IPAddress && entity != USSSN {
				t.Fatalf("%s %q not found on its own", entity, text[m.Start:m.End])
			}
		}
	})
}

func FuzzEmail(f *testing.F)      { fuzzEntity(f, Email) }
func FuzzPhone(f *testing.F)      { fuzzEntity(f, Phone) }
func FuzzCreditCard(f *testing.F) { fuzzEntity(f, CreditCard) }
func FuzzIBAN(f *testing.F)       { fuzzEntity(f, IBAN) }
func FuzzSSN(f *testing.F)        { fuzzEntity(f, USSSN) }
func FuzzIP(f *testing.F)         { fuzzEntity(f, IPAddress) }
func FuzzMAC(f *testing.F)        { fuzzEntity(f, MACAddress) }
func FuzzCrypto(f *testing.F)     { fuzzEntity(f, Crypto) }

func FuzzNames(f *testing.F) {
	for _, s := range []string{"Dr. Jane Smith called", "ask Maria Garcia today", "Ship to 10452 Smith Ways Apt. 331, Springfield", "Büro: Hauptstraße 12, Berlin", "Rue de la Paix 5", "May I help?"} {
		f.Add(s)
	}
	s, err := New(Config{Entities: []string{Person, StreetAddress}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ms := s.Scan(text)
		checkMatches(t, text, ms)
		for i := 1; i < len(ms); i++ {
			if ms[i].Start < ms[i-1].End {
				t.Fatalf("overlapping matches %+v %+v", ms[i-1], ms[i])
			}
		}
	})
}

// A Memo carries phone verdicts between scans: the results are those of
// Scan, for every sample scanned whole and as the growing prefixes a
// stream re-scans (one Memo across all of them, as a long stream would
// use, and past maxMemo verdicts).
func TestMemoSameResults(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var m Memo
	for _, c := range loadSamples(t) {
		for _, text := range []string{c.text, "call " + c.text, c.text + " then"} {
			for n := len(text) % 11; n <= len(text); n += 11 {
				p := text[:n]
				if got, want := fmt.Sprint(s.ScanMemo(p, &m)), fmt.Sprint(s.Scan(p)); got != want {
					t.Fatalf("line %d prefix %q: memo %s, scan %s", c.line, p, got, want)
				}
			}
		}
	}
	if len(m.facts) == 0 || len(m.facts) > maxMemo {
		t.Fatalf("memo holds %d verdicts", len(m.facts))
	}
}

func FuzzMemo(f *testing.F) {
	for _, c := range loadSamples(f) {
		if c.entity == Phone {
			f.Add(c.text, c.text+" or +44 20 7946 0958")
		}
	}
	s, err := New(Config{Entities: []string{Phone}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var m Memo
		for _, text := range []string{a, b, a + b, a} {
			if got, want := fmt.Sprint(s.ScanMemo(text, &m)), fmt.Sprint(s.Scan(text)); got != want {
				t.Fatalf("%q: memo %s, scan %s", text, got, want)
			}
		}
	})
}
