package outputguard

import (
	"testing"
	"unicode/utf8"
)

// FuzzReformattedSecrets: the normalisers never panic, map every byte back
// into the original text, and every hit lies inside the text.
func FuzzReformattedSecrets(f *testing.F) {
	for _, s := range []string{
		"AKIA ZZZZ G6ZD MEN4 KHVD", `{"k":"\u0041KIAZZZZG6ZDMEN4KHVD"}`, "\\u12", "\\", "a\\n\\t\\/",
		"Z2hwX1ZWRXFaZTJxcFVXbm9WUERGMnllRTZSc1hjTk9QbWVNanZxUA==", "sk-pro j-u8jz Pde0Ig xLd6Gn cfBAep",
	} {
		f.Add(s)
	}
	l := provisioned(f, Config{})
	f.Fuzz(func(t *testing.T, s string) {
		m, _ := unescape(s)
		for i := range m.b {
			if m.start[i] < 0 || m.end[i] > len(s) || m.start[i] > m.end[i] {
				t.Fatalf("byte %d maps to [%d,%d) of %d", i, m.start[i], m.end[i], len(s))
			}
		}
		j, _ := joinRuns(m)
		for i := range j.b {
			if j.b[i] != '\n' && (j.start[i] < 0 || j.end[i] > len(s)) {
				t.Fatalf("joined byte %d maps outside", i)
			}
		}
		for _, h := range l.reformattedSecrets(s, nil, true) {
			if h.Start < 0 || h.End > len(s) || h.Start >= h.End {
				t.Fatalf("hit [%d,%d) outside %d bytes", h.Start, h.End, len(s))
			}
		}
		if utf8.ValidString(s) {
			out, _ := l.ScanText(s)
			_ = out
		}
	})
}
