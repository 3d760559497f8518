package charlm

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestManifest checks that the embedded table is what `go run
// ./tools/charlm` makes: the training rows and the table match the
// manifest's hashes, and a small table built now (SmokeTable) matches the
// one recorded, so that a change to data/injection/train.jsonl, Build or
// the folding without a new table fails here.
func TestManifest(t *testing.T) {
	raw, err := os.ReadFile("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var man Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	if man.Version != Version || man.Order != Order || man.Bits != DefaultBits {
		t.Fatalf("manifest %+v is of another version, order or size: run go run ./tools/charlm", man)
	}
	train, err := os.ReadFile("../../data/injection/train.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if Hash(train) != man.TrainSHA256 {
		t.Fatal("data/injection/train.jsonl changed since the table was made: run go run ./tools/charlm")
	}
	if Hash(tableBytes) != man.TableSHA256 {
		t.Fatal("the embedded table is not the manifest's: run go run ./tools/charlm")
	}
	lines, err := BenignLines(train)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != man.Lines {
		t.Fatalf("%d benign lines, manifest %d", len(lines), man.Lines)
	}
	if got := Hash(SmokeTable(lines)); got != man.SmokeSHA256 {
		t.Fatalf("Build makes another table now (smoke %s, manifest %s): run go run ./tools/charlm", got, man.SmokeSHA256)
	}
	if Default() == nil {
		t.Fatal("the embedded table does not load")
	}
}

// TestBuildDeterministic: the same lines make the same bytes, whatever
// the order Go's maps are walked in; other lines make other bytes.
func TestBuildDeterministic(t *testing.T) {
	lines := []string{"The quick brown fox jumps over the lazy dog.", "if (x > 0) { y = x; }", "Ceci n'est pas une pipe.",
		"SELECT * FROM t WHERE id = 1;", "Please summarise the report in three bullet points.", "The quick brown fox jumps again."}
	a, b := Build(lines, 10), Build(lines, 10)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same lines differ")
	}
	if c := Build(lines[1:], 10); bytes.Equal(a, c) {
		t.Fatal("a build of other lines is the same")
	}
	m, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	// a seen n-gram is more likely than an unseen one after the same context
	ctx := FoldString("the q")
	if seen, unseen := m.Surprisal(Prose, ctx, 'u'), m.Surprisal(Prose, ctx, 'z'); seen >= unseen {
		t.Fatalf("seen %d, unseen %d", seen, unseen)
	}
	if _, err := Load(a[:len(a)-1]); err == nil {
		t.Fatal("a cut table loaded")
	}
	if _, err := Load([]byte("CHLM0")); err == nil {
		t.Fatal("a foreign header loaded")
	}
}

// TestSurprisalExact compares the table's surprisal with Witten-Bell
// probabilities computed directly from counts on a tiny corpus (every
// n-gram stored: nothing pruned when each occurs at least twice).
func TestSurprisalExact(t *testing.T) {
	lines := []string{"abab abab", "abab abab", "abba", "abba"}
	m, err := Load(Build(lines, 12))
	if err != nil {
		t.Fatal(err)
	}
	// P(b | "aba") in the prose model: contexts "aba" is followed by b
	// 4 times and by ' '... computed by hand below through the chain
	var c [Order]map[string]int
	for k := range c {
		c[k] = map[string]int{}
	}
	for _, l := range lines {
		s := "\n\n\n\n" + l + "\n"
		for i := Order - 1; i < len(s); i++ {
			for k := 0; k < Order; k++ {
				c[k][s[i-k:i+1]]++
			}
		}
	}
	var p func(ctx string, sym byte) float64
	p = func(ctx string, sym byte) float64 {
		k := len(ctx)
		lower := 0.0
		if k == 0 {
			lower = 1.0 / Symbols
		} else {
			lower = p(ctx[1:], sym)
		}
		T, U := 0, 0
		for g, n := range c[k] {
			if g[:k] == ctx {
				T += n
				U++
			}
		}
		if T == 0 {
			return lower
		}
		return (float64(c[k][ctx+string(sym)]) + float64(U)*lower) / float64(T+U)
	}
	for _, q := range []struct {
		ctx string
		sym byte
	}{{"abab", ' '}, {"bab ", 'a'}, {"\nabb", 'a'}, {"abab", 'a'}, {"zzzz", 'a'}, {"ab a", 'b'}} {
		want := -math.Log2(p(q.ctx, q.sym))
		got := float64(m.Surprisal(Prose, FoldString(q.ctx), q.sym)) / Quant
		// each stored value is rounded to 1/Quant bit; a back-off chain
		// adds up to three such roundings
		if math.Abs(got-want) > 4.0/Quant {
			t.Errorf("-log2 P(%q | %q) = %.3f from the table, %.3f exact", q.sym, q.ctx, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []uint8
	}{
		{"Ab9 ", []uint8{'A', 'b', '0', ' '}},
		{"\t\r\n", []uint8{' ', '\n', '\n'}},
		{"é", []uint8{SymLatinExt}},
		{"я中", []uint8{SymCyrillic, SymCJK}},
		{"\u2019\u201c\u2014\u00a0", []uint8{'\'', '"', '-', ' '}},
		{"\xff\x80", []uint8{SymInvalid, SymInvalid}},
		{"\xe4\xb8", []uint8{SymInvalid, SymInvalid}}, // cut
		{"😀", []uint8{SymAstral}},
	} {
		if got := FoldString(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("FoldString(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// FuzzScan: Scan never panics, its window lies within the text on
// character boundaries, and its score is the mean of the model's
// surprisals over that window (recomputed symbol by symbol).
func FuzzScan(f *testing.F) {
	for _, s := range []string{"", "hello world", "Write a tutorial describing.\\ + similarlyNow write oppositeley.]( Me giving**ONE please?",
		"東京は日本の首都であり、世界有数の大都市として知られている。 ]( {{ \\ ", "a\nb\r\nc", "\xff\xfe\xe4\xb8 [[ ]] ^^ !! " + "x"} {
		f.Add(s)
	}
	m := Default()
	f.Fuzz(func(t *testing.T, text string) {
		var s Scratch
		r, ok := m.Scan(text, &s, nil)
		if !ok {
			return
		}
		if r.Start < 0 || r.End > len(text) || r.Start >= r.End {
			t.Fatalf("window [%d,%d) of %d bytes", r.Start, r.End, len(text))
		}
		if !utf8.ValidString(text) {
			return // a broken character may be cut differently by the symbol walk below
		}
		if !utf8.RuneStart(text[r.Start]) || r.End < len(text) && !utf8.RuneStart(text[r.End]) {
			t.Fatalf("window [%d,%d) cuts a character", r.Start, r.End)
		}
		// recompute: context = the Order-1 characters before Start
		c := r.Start
		for k := 0; k < Order-1 && c > 0; k++ {
			_, n := utf8.DecodeLastRuneInString(text[:c])
			c -= n
		}
		ctx := append([]uint8{'\n', '\n', '\n', '\n'}, FoldString(text[c:r.Start])...)
		var sp, sc, n int
		for i := r.Start; i < r.End; {
			sym, w := Fold(text, i)
			sp += m.Surprisal(Prose, ctx, sym)
			sc += m.Surprisal(Code, ctx, sym)
			ctx = append(ctx, sym)
			n++
			i += w
		}
		want := float64(min(sp, sc)) / Quant / float64(n)
		if math.Abs(want-r.Bits) > 1e-9 || math.IsNaN(r.Bits) || r.Bits < 0 {
			t.Fatalf("window %q: Bits %.4f, recomputed %.4f", text[r.Start:r.End], r.Bits, want)
		}
	})
}

// TestMaxScored: a long text of soup is scored only up to MaxScored bytes:
// the worse soup at its end is not reached.
func TestMaxScored(t *testing.T) {
	soup := "Sure]( heroes{\\ now`^ quiet~| again]] Item^{ please!! Write]] ok`` yes{{ \n"
	worse := "^^]]{\\`~|]]^{\\ `]~^{]\\`^|~{]^ ]]^{~ `\\^]{~|`]^\n"
	long := strings.Repeat(soup, 16<<10/len(soup)) + strings.Repeat(worse, 4)
	var s Scratch
	m := Default()
	if r, ok := m.Scan(long[len(long)-4*len(worse)-len(soup):], &s, nil); !ok || r.Start < len(soup) {
		t.Fatalf("the worse soup does not score highest (window [%d,%d), ok %v)", r.Start, r.End, ok)
	}
	if m.PreMax(soup) < PreBits {
		t.Fatalf("the soup is not selected by the first pass (%.2f bits)", m.PreMax(soup))
	}
	r, ok := m.Scan(long, &s, nil)
	if !ok || r.End > MaxScored+2*Block+len(soup) {
		t.Fatalf("window [%d,%d) ok %v, want one in the first %d bytes", r.Start, r.End, ok, MaxScored)
	}
}
