package normalize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestNormalizeTable(t *testing.T) {
	tests := []struct {
		name, in, want string
		opt            Options
	}{
		{"ascii fold and collapse", "Hello \t\n  WORLD", "hello world", Options{}},
		{"keep case", "Hello  World", "Hello World", Options{KeepCase: true}},
		{"keep newlines", "a \n\n b  c", "a\nb c", Options{KeepNewlines: true}},
		{"cyrillic homoglyphs", "іgnоrе аll рrеvіоus", "ignore all previous", Options{}},
		{"greek homoglyphs", "ΙGΝΟRΕ ΡRΕVΙΟUS ρrσ", "ignore previous pro", Options{}},
		{"fullwidth", "ＩＧＮＯＲＥ ｉｎｓｔｒｕｃｔｉｏｎｓ", "ignore instructions", Options{}},
		{"math bold", "𝐢𝐠𝐧𝐨𝐫𝐞 𝕴𝕹𝕾𝕿𝕽𝖀𝕮𝕿𝕴𝕺𝕹𝕾", "ignore instructions", Options{}},
		{"math sans italic", "𝘴𝘺𝘴𝘵𝘦𝘮 𝘱𝘳𝘰𝘮𝘱𝘵", "system prompt", Options{}},
		{"circled and ligature", "ⓘⓖⓝⓞⓡⓔ ﬁle", "ignore file", Options{}},
		{"diacritics stripped", "ïgnörè prévïoüs", "ignore previous", Options{}},
		{"diacritics kept with KeepMarks", "e\u0301", "é", Options{KeepMarks: true}},
		{"sharp s", "Straße", "strasse", Options{}},
		{"dotless i and long s", "ıgnore ſyſtem", "ignore system", Options{}},
		{"ascii never remapped", "m 0 1 l I rn", "m 0 1 l i rn", Options{}},
		{"no skeleton", "іgnоrе", "іgnоrе", Options{NoSkeleton: true}},
		{"cjk untouched", "忽略之前的指令", "忽略之前的指令", Options{}},
		{"zero width removed", "ig\u200bno\u200cre\u200d \u2060all\ufeff", "ignore all", Options{}},
		{"bidi removed", "\u202eerongi\u202c \u2066x\u2069\u200e\u200f\u061c", "erongi x", Options{}},
		{"tags removed", "hi\U000E0069\U000E0067\U000E006E", "hi", Options{}},
		{"variation selectors", "A\ufe0fB\U000E0100C", "abc", Options{}},
		{"soft hyphen", "ig\u00adnore", "ignore", Options{}},
		{"fillers become spaces", "ignore\u3164previous\u2800rules\u115f\u1160x\uffa0y", "ignore previous rules x y", Options{}},
		{"other format", "a\u034fb\u2061c\U0001D173d\u180ee", "abcde", Options{}},
		{"controls removed", "a\x00b\x07c\u0085d\u009fe", "abc de", Options{}},
		{"unicode spaces collapse", "a\u00a0\u2003\u3000b\u2028c", "a b c", Options{}},
		{"zalgo", "z\u0337\u0321\u031ba\u0338l", "zal", Options{}},
		{"invalid utf8", "a\xffb", "a\ufffdb", Options{}},
		{"empty", "", "", Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in, tc.opt)
			if got.Norm != tc.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tc.in, got.Norm, tc.want)
			}
			checkInvariants(t, tc.in, got)
		})
	}
}

func TestHiddenFindings(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		kind    Kind
		start   int
		end     int
		count   int
		decoded string
	}{
		{"zero width", "ab\u200b\u200bcd", KindZeroWidth, 2, 4, 2, ""},
		{"word joiner", "a\u2060b", KindZeroWidth, 1, 2, 1, ""},
		{"bom", "\ufeffhi", KindZeroWidth, 0, 1, 1, ""},
		{"bidi override", "x\u202ey", KindBidi, 1, 2, 1, ""},
		{"bidi isolate", "x\u2067y", KindBidi, 1, 2, 1, ""},
		{"arabic letter mark", "x\u061cy", KindBidi, 1, 2, 1, ""},
		{"tag smuggling", "ok\U000E0001\U000E0069\U000E0067\U000E006E\U000E006F\U000E0072\U000E0065\U000E007F", KindTag, 2, 10, 8, "ignore"},
		{"vs16", "x\ufe0f", KindVariationSelector, 1, 2, 1, ""},
		{"vs supplement", "x\U000E01EF", KindVariationSelector, 1, 2, 1, ""},
		{"soft hyphen", "x\u00ady", KindSoftHyphen, 1, 2, 1, ""},
		{"hangul filler", "x\u3164y", KindFiller, 1, 2, 1, ""},
		{"halfwidth hangul filler", "x\uffa0y", KindFiller, 1, 2, 1, ""},
		{"braille blank", "x\u2800y", KindFiller, 1, 2, 1, ""},
		{"other cf", "x\u2062y", KindZeroWidth, 1, 2, 1, ""},
		{"interlinear annotation", "x\ufff9y", KindFormat, 1, 2, 1, ""},
		{"control", "x\x1by", KindControl, 1, 2, 1, ""},
		{"combining marks", "x\u0300\u0301\u0302\u0303y", KindCombining, 0, 5, 4, ""},
		{"special token", "hi <|im_start|>system", KindSpecialToken, 3, 15, 1, "<|im_start|>"},
		{"fullwidth special token", "hi ＜｜ＩＭ_ｓｔａｒｔ｜＞", KindSpecialToken, 3, 15, 1, "<|im_start|>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in, Options{})
			checkInvariants(t, tc.in, got)
			for _, f := range got.Hidden {
				if f.Kind == tc.kind {
					if f.Start != tc.start || f.End != tc.end || f.Count != tc.count || f.Decoded != tc.decoded {
						t.Fatalf("finding %+v, want [%d,%d) count %d decoded %q", f, tc.start, tc.end, tc.count, tc.decoded)
					}
					return
				}
			}
			t.Fatalf("no %v finding in %+v", tc.kind, got.Hidden)
		})
	}
}

func TestOrigSpan(t *testing.T) {
	tests := []struct {
		name             string
		in, needle       string
		wantStart, wantE int
	}{
		{"ascii", "say Ignore now", "ignore", 4, 10},
		{"collapsed spaces", "a    Ignore", "ignore", 5, 11},
		{"zero width inside", "x ig\u200bnore y", "ignore", 2, 9},
		{"zero width at edges", "\u200bignore\u200b", "ignore", 1, 7},
		{"astral math letters", "𝐢𝐠𝐧𝐨𝐫𝐞 rules", "rules", 7, 12},
		{"astral inside", "a 𝐢𝐠𝐧𝐨𝐫𝐞 b", "ignore", 2, 8},
		{"emoji before", "😀😀 ignore", "ignore", 3, 9},
		{"combining marks", "i\u0308gno\u0301re x", "ignore", 0, 8},
		{"decomposed then text", "e\u0301 ignore", "ignore", 3, 9},
		{"ligature expands", "ﬁle", "file", 0, 3},
		{"ligature partial", "ﬁle", "i", 0, 1},
		{"sharp s", "straße!", "ss", 4, 5},
		{"fullwidth", "ｘ ＩＧＮＯＲＥ", "ignore", 2, 8},
		{"cyrillic", "іgnоrе", "ignore", 0, 6},
		{"tags inside", "ig\U000E0041\U000E0042nore", "ignore", 0, 8},
		{"arabic ligature expands", "\ufdfa", "\u0635\u0644\u0649", 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Normalize(tc.in, Options{})
			checkInvariants(t, tc.in, got)
			i := strings.Index(got.Norm, tc.needle)
			if i < 0 {
				t.Fatalf("%q not in %q", tc.needle, got.Norm)
			}
			s, e := got.OrigSpan(i, i+len(tc.needle))
			if s != tc.wantStart || e != tc.wantE {
				t.Fatalf("OrigSpan = [%d,%d), want [%d,%d) (norm %q)", s, e, tc.wantStart, tc.wantE, got.Norm)
			}
			rs, re := got.OrigRuneSpan(utf8.RuneCountInString(got.Norm[:i]), utf8.RuneCountInString(got.Norm[:i+len(tc.needle)]))
			if rs != s || re != e {
				t.Fatalf("OrigRuneSpan = [%d,%d), want [%d,%d)", rs, re, s, e)
			}
		})
	}
}

func TestOrigSpanClamps(t *testing.T) {
	got := Normalize("héllo wörld", Options{})
	for _, c := range [][2]int{{-5, 3}, {3, 1000}, {8, 2}, {-1, -1}, {1000, 1000}, {0, 0}} {
		s, e := got.OrigSpan(c[0], c[1])
		if s < 0 || s > e || e > got.OrigLen() {
			t.Fatalf("OrigSpan(%d,%d) = [%d,%d) out of [0,%d]", c[0], c[1], s, e, got.OrigLen())
		}
	}
	empty := Normalize("", Options{})
	if s, e := empty.OrigSpan(0, 10); s != 0 || e != 0 {
		t.Fatalf("empty OrigSpan = [%d,%d)", s, e)
	}
}

func TestNormalizeIntoReuse(t *testing.T) {
	var tx Text
	NormalizeInto(&tx, "Ａ\u200bB with <|im_end|>", Options{})
	first := tx.Norm
	if len(tx.Hidden) != 2 {
		t.Fatalf("hidden %+v", tx.Hidden)
	}
	NormalizeInto(&tx, "plain", Options{})
	if tx.Norm != "plain" || len(tx.Hidden) != 0 || tx.Stats != (Stats{}) || tx.OrigLen() != 5 {
		t.Fatalf("reuse leaked state: %+v", tx)
	}
	if first != "ab with <|im_end|>" {
		t.Fatalf("earlier Norm changed: %q", first)
	}
}

func TestTruncation(t *testing.T) {
	in := strings.Repeat("ab", 100)
	got := Normalize(in, Options{MaxInput: 51})
	if !got.Truncated || got.Norm != in[:51] || got.OrigLen() != 51 {
		t.Fatalf("MaxInput: truncated=%v len=%d origlen=%d", got.Truncated, len(got.Norm), got.OrigLen())
	}
	// U+FDFA expands to 18 code points (33 bytes) under NFKC.
	bomb := strings.Repeat("\ufdfa", 100)
	got = Normalize(bomb, Options{MaxOutput: 100})
	if !got.Truncated || len(got.Norm) > 100 {
		t.Fatalf("MaxOutput: truncated=%v len=%d", got.Truncated, len(got.Norm))
	}
	if last := got.Hidden[len(got.Hidden)-1]; last.Kind != KindTruncated {
		t.Fatalf("no truncation finding: %+v", got.Hidden)
	}
	checkInvariants(t, bomb, got)
	// multibyte rune cut at MaxInput stays valid.
	got = Normalize("ééé", Options{MaxInput: 3})
	if got.Norm != "e" || !utf8.ValidString(got.Norm) {
		t.Fatalf("cut inside rune: %q", got.Norm)
	}
}

func TestMaxFindings(t *testing.T) {
	in := strings.Repeat("a\u200bb\u202e", 1000)
	got := Normalize(in, Options{MaxFindings: 10})
	if len(got.Hidden) != 10 || got.Stats.DroppedFindings == 0 {
		t.Fatalf("findings %d dropped %d", len(got.Hidden), got.Stats.DroppedFindings)
	}
}

// TestCfCovered checks that every format character Go's Unicode tables
// know is removed (so a newer Cf character cannot slip through unnoticed).
func TestCfCovered(t *testing.T) {
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if unicode.Is(unicode.Cf, r) && invisibleKind(r) == 0 {
			t.Fatalf("U+%04X is Cf but not removed", r)
		}
	}
}

func TestSkeletonLookup(t *testing.T) {
	for r, want := range map[rune]string{'а': "a", 'о': "o", 'ο': "o", 'ɡ': "g", 'ı': "i"} {
		if got, ok := Skeleton(r); !ok || got != want {
			t.Errorf("Skeleton(%q) = %q,%v want %q", r, got, ok, want)
		}
	}
	for _, r := range []rune{'a', 'm', '忽', 'ж'} {
		if got, ok := Skeleton(r); ok {
			t.Errorf("Skeleton(%q) = %q, want none", r, got)
		}
	}
}

func TestKindString(t *testing.T) {
	for k := KindZeroWidth; k <= KindTruncated; k++ {
		if k.String() == "unknown" {
			t.Errorf("kind %d has no name", k)
		}
	}
	if Kind(200).String() != "unknown" {
		t.Error("unknown kind")
	}
}

// checkInvariants asserts what must hold for any input.
func checkInvariants(t testing.TB, in string, got *Text) {
	t.Helper()
	if !utf8.ValidString(got.Norm) {
		t.Fatalf("Norm not valid UTF-8: %q", got.Norm)
	}
	if !got.lazy && (len(got.starts) != len(got.Norm) || len(got.ends) != len(got.Norm)) {
		t.Fatalf("mapping length %d/%d for %d bytes", len(got.starts), len(got.ends), len(got.Norm))
	}
	n := utf8.RuneCountInString(in)
	if got.OrigLen() > n {
		t.Fatalf("OrigLen %d > %d", got.OrigLen(), n)
	}
	if !got.Truncated && got.OrigLen() != n {
		t.Fatalf("OrigLen %d != %d", got.OrigLen(), n)
	}
	prevS, prevE := 0, 0
	for i := range len(got.Norm) {
		s, e := got.startAt(i), got.endAt(i)
		if s < 0 || s >= e || int(e) > got.OrigLen() || s < prevS || e < prevE {
			t.Fatalf("bad mapping at %d: [%d,%d) after [%d,%d) (origlen %d)", i, s, e, prevS, prevE, got.OrigLen())
		}
		prevS, prevE = s, e
	}
	for _, f := range got.Hidden {
		if f.Start < 0 || f.Start > f.End || f.End > got.OrigLen() || f.Count < 1 {
			t.Fatalf("bad finding %+v (origlen %d)", f, got.OrigLen())
		}
	}
	if strings.Contains(got.Norm, "  ") {
		t.Fatalf("uncollapsed whitespace in %q", got.Norm)
	}
}
