package tokens

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodingFor(t *testing.T) {
	cases := []struct{ model, want string }{
		{"gpt-4o", O200K},
		{"gpt-4o-mini-2024-07-18", O200K},
		{"openai/gpt-4.1", O200K},
		{"GPT-5", O200K},
		{"o3-mini", O200K},
		{"gpt-oss-120b", O200K},
		{"gpt-4", CL100K},
		{"gpt-4-turbo", CL100K},
		{"gpt-3.5-turbo", CL100K},
		{"text-embedding-3-small", CL100K},
		{"claude-sonnet-4-5", CL100K},
		{"", CL100K},
	}
	for _, c := range cases {
		if got := EncodingFor(c.model); got != c.want {
			t.Errorf("EncodingFor(%q) = %s, want %s", c.model, got, c.want)
		}
	}
}

// Reference counts from OpenAI's tiktoken.
func TestKnownCounts(t *testing.T) {
	cases := []struct {
		enc, text string
		want      int
	}{
		{CL100K, "", 0},
		{CL100K, "hello world", 2},
		{CL100K, "Hello, world!", 4},
		{CL100K, "tiktoken is great!", 6},
		{CL100K, "<|endoftext|>", 7}, // special tokens count as plain text
		{O200K, "hello world", 2},
		{O200K, "Hello, world!", 4},
	}
	for _, c := range cases {
		got, err := CountEncoding(c.enc, c.text)
		if err != nil {
			t.Fatalf("CountEncoding(%s, %q): %v", c.enc, c.text, err)
		}
		if got != c.want {
			t.Errorf("CountEncoding(%s, %q) = %d, want %d", c.enc, c.text, got, c.want)
		}
	}
	if _, err := CountEncoding("p99k_base", "x"); err == nil {
		t.Error("unknown encoding accepted")
	}
	if got := Count("gpt-4o", "hello world"); got != 2 {
		t.Errorf("Count(gpt-4o, hello world) = %d, want 2", got)
	}
}

func corpus(t testing.TB) []string {
	f, err := os.Open("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// Chunking must not change the count of ordinary text.
func TestChunkingIsExact(t *testing.T) {
	lines := corpus(t)
	var texts []string
	// Every line alone, the whole corpus, and long rotations of it, so that
	// chunks are cut at many different places.
	texts = append(texts, lines...)
	whole := strings.Join(lines, "\n")
	texts = append(texts, whole, strings.Repeat(whole+" ", 5))
	for i := 1; i < len(lines); i++ {
		texts = append(texts, strings.Join(append(lines[i:], lines[:i]...), "\n"))
	}
	for _, enc := range []string{CL100K, O200K} {
		l, err := get(enc)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range texts {
			want, err := l.codec.Count(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := CountEncoding(enc, s)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s text %d (%d bytes): chunked count %d, whole count %d", enc, i, len(s), got, want)
			}
		}
	}
}

func TestChunksAreBounded(t *testing.T) {
	inputs := []string{
		strings.Repeat(" ", 10000),
		strings.Repeat("\n \t", 5000),
		strings.Repeat("a", 10000),
		strings.Repeat("é", 5000),
		strings.Repeat("word ", 2000),
		strings.Repeat("日本語", 2000),
	}
	for _, s := range inputs {
		for rest := s; len(rest) > 0; {
			n := nextChunk(rest)
			if n <= 0 || n > chunkHard || n > len(rest) {
				t.Fatalf("nextChunk gave %d for %d bytes", n, len(rest))
			}
			if !utf8.ValidString(rest[:n]) {
				t.Fatalf("chunk not cut at a rune boundary")
			}
			rest = rest[n:]
		}
	}
}

// Pathological inputs that make tiktoken quadratic finish (a quadratic run
// over 256 KiB takes minutes; the package test timeout would catch it).
func TestPathologicalInputs(t *testing.T) {
	const size = 256 << 10
	inputs := map[string]string{
		"spaces":  strings.Repeat(" ", size),
		"mixedws": strings.Repeat("\n \t", size/3),
		"letters": strings.Repeat("a", size),
		"digits":  strings.Repeat("7", size),
		"punct":   strings.Repeat("!?", size/2),
	}
	for name, s := range inputs {
		for _, enc := range []string{CL100K, O200K} {
			n, err := CountEncoding(enc, s)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, enc, err)
			}
			if n <= 0 || n > len(s) {
				t.Errorf("%s/%s: count %d out of range (1..%d)", name, enc, n, len(s))
			}
		}
	}
}

func TestPreload(t *testing.T) {
	for _, m := range []string{"gpt-4", "gpt-4o"} {
		d, err := Preload(m)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%s) loaded in %v", m, EncodingFor(m), d)
	}
}

func FuzzCount(f *testing.F) {
	for _, s := range []string{"", "hello world", "Hello, world!", "tiktoken is great!", "  \n\t x", "\xff\xfe invalid", strings.Repeat("ab ", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, enc := range []string{CL100K, O200K} {
			n, err := CountEncoding(enc, s)
			if err != nil {
				t.Fatalf("%s: %v", enc, err)
			}
			if n > UpperBound(s) || (s != "" && n == 0) {
				t.Fatalf("%s: count %d for %d bytes", enc, n, len(s))
			}
		}
	})
}

// Every ASCII character is at least one token (the library drops DEL on
// its own; Count works around it).
func TestEveryASCIICharCounts(t *testing.T) {
	for _, enc := range []string{CL100K, O200K} {
		for c := 0; c < 0x80; c++ {
			if n, _ := CountEncoding(enc, string(rune(c))); n != 1 {
				t.Errorf("%s: %q counts %d tokens, want 1", enc, rune(c), n)
			}
		}
	}
}
