package redact

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenInput = "Mail jane@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111. Mail jane@example.com again."

func goldenSpans() []Span {
	t := goldenInput
	at := func(s string, nth int) Span {
		i := -1
		for k := 0; k <= nth; k++ {
			j := strings.Index(t[i+1:], s)
			i += 1 + j
		}
		return Span{Start: i, End: i + len(s)}
	}
	e1 := at("jane@example.com", 0)
	e1.Entity, e1.Score = "EMAIL_ADDRESS", 0.9
	e2 := at("jane@example.com", 1)
	e2.Entity, e2.Score = "EMAIL_ADDRESS", 0.9
	ph := at("+44 20 7946 0958", 0)
	ph.Entity, ph.Score = "PHONE_NUMBER", 0.7
	cc := at("4111 1111 1111 1111", 0)
	cc.Entity, cc.Score = "CREDIT_CARD", 0.9
	// a shorter overlapping phone match inside the card must lose
	inner := Span{Entity: "PHONE_NUMBER", Start: cc.Start + 5, End: cc.End, Score: 0.99}
	return []Span{inner, e2, cc, ph, e1}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := "testdata/" + name + ".golden"
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("%s:\n got %q\nwant %q", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	spans := Resolve(goldenInput, goldenSpans())
	if len(spans) != 4 {
		t.Fatalf("Resolve kept %d spans: %+v", len(spans), spans)
	}
	golden(t, "label", Apply(goldenInput, spans, func(s Span, v string) string { return Label(s.Entity, v) }))
	mask := Mask(4)
	golden(t, "mask", Apply(goldenInput, spans, func(s Span, v string) string { return mask(s.Entity, v) }))
	h, err := Hash([]byte("0123456789abcdef0123456789abcdef"), 12)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "hash", Apply(goldenInput, spans, func(s Span, v string) string { return h(s.Entity, v) }))
	v, _ := NewVault()
	p, err := v.Pseudonymize(goldenInput, spans)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "pseudonym", p)
	if v.Restore(p) != goldenInput {
		t.Fatalf("restore: %q", v.Restore(p))
	}
}

func TestResolveDeterministic(t *testing.T) {
	sp := goldenSpans()
	a := Resolve(goldenInput, sp)
	for i := range sp {
		rot := append(append([]Span(nil), sp[i:]...), sp[:i]...)
		b := Resolve(goldenInput, rot)
		if len(a) != len(b) {
			t.Fatal("order dependent")
		}
		for k := range a {
			if a[k] != b[k] {
				t.Fatalf("order dependent: %+v vs %+v", a, b)
			}
		}
	}
	// equal length: higher score wins
	r := Resolve("abcdef", []Span{{"A", 0, 3, 0.5}, {"B", 1, 4, 0.9}})
	if len(r) != 1 || r[0].Entity != "B" {
		t.Fatalf("%+v", r)
	}
	// UTF-8: a span ending inside "é" is widened
	r = Resolve("xé", []Span{{"A", 0, 2, 1}})
	if r[0].End != 3 {
		t.Fatalf("%+v", r)
	}
}

func TestHashErrors(t *testing.T) {
	if _, err := Hash([]byte("short"), 12); err == nil {
		t.Error("short key accepted")
	}
	if _, err := Hash(make([]byte, 32), 4); err == nil {
		t.Error("length 4 accepted")
	}
}

func TestVaultStableAndSealed(t *testing.T) {
	v, _ := NewVault()
	a, _ := v.Placeholder("EMAIL_ADDRESS", "a@x.io")
	b, _ := v.Placeholder("EMAIL_ADDRESS", "b@x.io")
	a2, _ := v.Placeholder("EMAIL_ADDRESS", "a@x.io")
	if a != a2 || a == b || a != "<EMAIL_ADDRESS_1>" || b != "<EMAIL_ADDRESS_2>" {
		t.Fatalf("%s %s %s", a, b, a2)
	}
	for _, s := range v.sealed {
		if strings.Contains(string(s), "a@x.io") {
			t.Fatal("plaintext in vault")
		}
	}
	if got := v.Restore("<EMAIL_ADDRESS_9> <EMAIL_ADDRESS_1> <x"); got != "<EMAIL_ADDRESS_9> a@x.io <x" {
		t.Fatalf("%q", got)
	}
}

func TestRestorerSplitEverywhere(t *testing.T) {
	v, _ := NewVault()
	p1, _ := v.Placeholder("EMAIL_ADDRESS", "jane@example.com")
	p2, _ := v.Placeholder("PHONE_NUMBER", "+44 20 7946 0958")
	stream := "Hi " + p1 + ", call " + p2 + " < 3 <b>" + p1
	want := v.Restore(stream)
	for size := 1; size <= len(stream); size++ {
		r := Restorer{V: v}
		var b strings.Builder
		for i := 0; i < len(stream); i += size {
			j := min(i+size, len(stream))
			b.WriteString(r.Feed(stream[i:j]))
		}
		b.WriteString(r.Flush())
		if b.String() != want {
			t.Fatalf("chunk %d: %q want %q", size, b.String(), want)
		}
	}
	for cut := 0; cut <= len(stream); cut++ {
		r := Restorer{V: v}
		got := r.Feed(stream[:cut]) + r.Feed(stream[cut:]) + r.Flush()
		if got != want {
			t.Fatalf("cut %d: %q", cut, got)
		}
	}
}

func FuzzRestorer(f *testing.F) {
	f.Add("<EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_", 3)
	f.Add("<<<>>><A_1>", 1)
	f.Fuzz(func(t *testing.T, s string, size int) {
		if size <= 0 || size > 64 {
			size = 7
		}
		v, _ := NewVault()
		v.Placeholder("EMAIL_ADDRESS", "x@y.z")
		want := v.Restore(s)
		r := Restorer{V: v}
		var b strings.Builder
		for i := 0; i < len(s); i += size {
			b.WriteString(r.Feed(s[i:min(i+size, len(s))]))
		}
		b.WriteString(r.Flush())
		if b.String() != want {
			t.Fatalf("%q: %q want %q", s, b.String(), want)
		}
	})
}
