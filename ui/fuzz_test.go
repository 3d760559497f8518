package ui

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHighlight(t *testing.T) {
	for _, tc := range []struct {
		text  string
		spans []span
		want  string // marked runs in brackets
	}{
		{"hello world", nil, "hello world"},
		{"hello world", []span{{6, 11, "a"}}, "hello [world]"},
		{"héllo wörld", []span{{1, 2, "a"}, {7, 8, "b"}}, "h[é]llo w[ö]rld"},
		{"abcdef", []span{{1, 3, "a"}, {2, 5, "b"}}, "a[b][c][de]f"}, // overlaps split by label
		{"abc", []span{{-5, 99, "a"}}, "[abc]"},                      // clamped
		{"abc", []span{{2, 1, "a"}}, "abc"},                          // empty
	} {
		var b strings.Builder
		for _, p := range highlight(tc.text, tc.spans) {
			if p.Mark {
				b.WriteString("[" + p.Text + "]")
			} else {
				b.WriteString(p.Text)
			}
		}
		if b.String() != tc.want {
			t.Errorf("highlight(%q, %v) = %q, want %q", tc.text, tc.spans, b.String(), tc.want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	m, err := parseLimits(" rpm=60, tpm = 1000;budget_usd_day=-1\n")
	if err != nil || m["rpm"] != 60 || m["tpm"] != 1000 || m["budget_usd_day"] != -1 || len(m) != 3 {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"rpm", "rpm=x", "=5", "rpm=99999999999999999999"} {
		if _, err := parseLimits(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The console's parsers of untrusted input: finding spans over any text,
// limits typed in a form, a token's payload, a time field.
func FuzzParsers(f *testing.F) {
	f.Add("hello world", 6, 11, "rpm=60, tpm=1000", "a.eyJub25jZSI6IngiLCJleHAiOjF9.c", "2026-12-07T10:00")
	f.Add("héllo", -3, 99, "x=", "..", "")
	f.Add("", 0, 0, "=,=", "a.!!!.b", "2026-13-45")
	f.Fuzz(func(t *testing.T, text string, start, end int, limits, token, when string) {
		parts := highlight(text, []span{{start, end, "x"}, {end, start + 3, "y"}})
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		if utf8.ValidString(text) && b.String() != text {
			t.Fatalf("highlight lost text: %q -> %q", text, b.String())
		}
		_, _ = parseLimits(limits)
		_, _ = jwtClaims(token)
		_, _ = parseWhen(when)
	})
}
