package secrets

import (
	"bufio"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	glconfig "github.com/zricethezav/gitleaks/v8/config"

	"github.com/rampart-ai/rampart/internal/acdfa"
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
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 4 {
			t.Fatalf("samples.tsv:%d: %d fields", n, len(p))
		}
		un := func(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }
		out = append(out, sample{p[0], p[1], un(p[2]), un(p[3]), n})
	}
	return out
}

var testScanner = func() *Scanner {
	s, err := New(Config{})
	if err != nil {
		panic(err)
	}
	return s
}()

func TestSamples(t *testing.T) {
	for _, c := range loadSamples(t) {
		ms := testScanner.Scan(c.text)
		switch c.kind {
		case "tp":
			ok := false
			for _, m := range ms {
				if m.Entity == c.entity && c.text[m.Start:m.End] == c.want {
					ok = true
				}
			}
			if !ok {
				var got []string
				for _, m := range ms {
					got = append(got, m.Rule+":"+m.Entity+"="+c.text[m.Start:m.End])
				}
				t.Errorf("line %d: %s not found; got %v", c.line, c.entity, got)
			}
		case "fp":
			for _, m := range ms {
				if c.entity == "ANY" || m.Entity == c.entity {
					t.Errorf("line %d: false positive %s (%s) %q", c.line, m.Entity, m.Rule, c.text[m.Start:m.End])
				}
			}
		}
	}
}

func TestGitleaksLoaded(t *testing.T) {
	rules := testScanner.Rules()
	if len(rules) < 150 {
		t.Fatalf("only %d rules loaded", len(rules))
	}
	only, err := New(Config{DisableGitleaks: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.Rules()) != len(extraRules) {
		t.Fatalf("DisableGitleaks: %d rules", len(only.Rules()))
	}
	if _, err := New(Config{DisabledRules: []string{"no-such-rule"}}); err == nil {
		t.Fatal("unknown disabled rule accepted")
	}
	d, err := New(Config{DisabledRules: []string{"rampart-aws-access-key", "aws-access-token"}})
	if err != nil {
		t.Fatal(err)
	}
	if ms := d.Scan("key AKIAQWERTYUIOPASDFGH ok"); len(ms) != 0 {
		t.Fatalf("disabled rules still match: %+v", ms)
	}
}

func TestOpenPEM(t *testing.T) {
	head := "here: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
	ms := testScanner.Scan(head)
	open := false
	for _, m := range ms {
		if m.Open && m.End == len(head) && m.Entity == "PRIVATE_KEY" {
			open = true
		}
	}
	if !open {
		t.Fatalf("open PEM not reported: %+v", ms)
	}
	cases := []struct {
		in   string
		n    int
		done bool
	}{
		{"abc+/=\nxyz", 10, false},
		{"abc\n-----END PRIVATE KEY-----\nThanks.", 29, true},
		{"abc\n-----EN", 4, false},
		{"abc\n-----END PRIVATE KEY--", 4, false},
		{"abc. Then", 3, true},
		{"abc\n-----BEGIN", 4, true},
	}
	for _, c := range cases {
		n, done := ContinueOpen(c.in)
		if n != c.n || done != c.done {
			t.Errorf("ContinueOpen(%q) = %d,%v want %d,%v", c.in, n, done, c.n, c.done)
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, c := range loadSamples(f) {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range testScanner.Scan(text) {
			if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
				t.Fatalf("bad span %+v", m)
			}
		}
		if n, _ := ContinueOpen(text); n < 0 || n > len(text) {
			t.Fatalf("ContinueOpen claims %d bytes of a %d-byte text", n, len(text))
		}
	})
}

func benchText(secret string) string {
	base := "The deployment guide explains how to configure the service. First install the CLI, then run the setup command and follow the prompts. Logs are written to the data directory and rotated daily. "
	var b strings.Builder
	for b.Len() < 2048-len(secret) {
		b.WriteString(base)
	}
	s := b.String()[:2048-len(secret)]
	return s[:1024] + secret + s[1024:]
}

func BenchmarkScanClean2KB(b *testing.B) {
	text := benchText("")
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		testScanner.Scan(text)
	}
}

func BenchmarkScanSecret2KB(b *testing.B) {
	text := benchText(" export OPENAI_API_KEY=sk-proj-u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJ ")
	if len(testScanner.Scan(text)) == 0 {
		b.Fatal("no secret found")
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		testScanner.Scan(text)
	}
}

// The default config's stop words are matched by acdfa automata instead of
// gitleaks' (takeStopWords): for every allowlist, on every stop word inside
// other text, in upper case, cut short, and on random strings, the answer
// is gitleaks' own ContainsStopWord's on a fresh copy of the config.
func TestStopWordsMatchGitleaks(t *testing.T) {
	if _, err := New(Config{}); err != nil {
		t.Fatal(err)
	}
	ref, err := readGitleaks(nil)
	if err != nil {
		t.Fatal(err)
	}
	type pair struct{ ours, theirs *glconfig.Allowlist }
	var pairs []pair
	for i, a := range ref.Allowlists {
		pairs = append(pairs, pair{defaultCfg.Allowlists[i], a})
	}
	for id, r := range ref.Rules {
		for i, a := range r.Allowlists {
			pairs = append(pairs, pair{defaultCfg.Rules[id].Allowlists[i], a})
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	checked, words := 0, 0
	for _, p := range pairs {
		if len(p.theirs.StopWords) == 0 {
			if stopSets[p.ours] != nil {
				t.Fatal("stop words where gitleaks has none")
			}
			continue
		}
		if stopSets[p.ours] == nil || len(p.ours.StopWords) != 0 {
			t.Fatal("stop words not taken")
		}
		var texts []string
		for _, w := range p.theirs.StopWords {
			texts = append(texts, w, "x"+strings.ToUpper(w)+"9", w[:len(w)/2], "AKIA"+w[1:])
		}
		for i := 0; i < 2000; i++ {
			b := make([]byte, 4+rng.IntN(40))
			for k := range b {
				b[k] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-é"[rng.IntN(65)]
			}
			texts = append(texts, string(b))
		}
		if err := p.theirs.Validate(); err != nil {
			t.Fatal(err)
		}
		words += len(p.theirs.StopWords)
		for _, s := range texts {
			want, _ := p.theirs.ContainsStopWord(s)
			if got := containsStopWord(p.ours, s); got != want {
				t.Fatalf("%q: %v, gitleaks %v", s, got, want)
			}
			checked++
		}
		if !hasStopWords(p.ours) {
			t.Fatal("hasStopWords false")
		}
	}
	if words < 100 {
		t.Fatalf("only %d stop words checked", words)
	}
	t.Logf("%d texts over %d stop words", checked, words)
}

// Translating gitleaks' config with the stop words in acdfa automata
// allocates megabytes less than with gitleaks' own automaton (whose states
// take 2 KiB each), and every list is found again after translation.
func TestStopWordsSmall(t *testing.T) {
	alloc := func(own map[*glconfig.Allowlist]*acdfa.Automaton) uint64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		if _, err := readGitleaks(own); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc
	}
	theirs := alloc(nil)
	own := map[*glconfig.Allowlist]*acdfa.Automaton{}
	ours := alloc(own)
	size := 0
	for _, a := range own {
		size += a.Bytes()
	}
	t.Logf("translation allocates %d KiB with gitleaks' stop-word automata, %d KiB with acdfa (%d lists, %d KiB)", theirs>>10, ours>>10, len(own), size>>10)
	if len(own) == 0 || ours+5<<20 > theirs {
		t.Errorf("%d lists; %d KiB allocated, gitleaks' own %d KiB", len(own), ours>>10, theirs>>10)
	}
}
