package normtext

import (
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/detect/normalize"
)

var plainSamples = []string{
	"", "a", "plain text, with punctuation: (ok)!", strings.Repeat("sixteen bytes!! ", 4),
	"tab\tlf\ncr\r", "bell\x07", "del\x7f", "nul\x00" + strings.Repeat("x", 20), strings.Repeat("y", 17) + "\x1f",
	"é", strings.Repeat("z", 15) + "é", "~ and } are printable", strings.Repeat("z", 31) + "\x80",
}

// PlainASCII agrees with the byte-wise definition, and on plain text the
// normalisations only fold case and collapse whitespace (what layers that
// skip normalising plain text rely on).
func TestPlainASCII(t *testing.T) {
	for _, s := range plainSamples {
		checkPlain(t, s)
	}
}

func FuzzPlainASCII(f *testing.F) {
	for _, s := range append(plainSamples, samples...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 4096 {
			s = s[:4096]
		}
		checkPlain(t, s)
	})
}

func checkPlain(t *testing.T, s string) {
	t.Helper()
	plain := PlainASCII(s)
	if plain != plainBytes(s) {
		t.Fatalf("PlainASCII(%q) = %v, byte-wise %v", s, plain, plainBytes(s))
	}
	if !plain {
		return
	}
	for _, k := range []Kind{Folded, Cased} {
		want := strings.Join(strings.Fields(s), " ")
		if k == Folded {
			want = strings.ToLower(want)
		}
		opt := k.Options()
		opt.KeepNewlines = false
		got := normalize.Normalize(s, opt).Norm
		if strings.TrimSpace(got) != want {
			t.Fatalf("kind %d, plain %q: normalised %q, want case fold and whitespace collapse %q", k, s, got, want)
		}
	}
}
