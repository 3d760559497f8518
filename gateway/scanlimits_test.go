package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
)

// TestScanSizeLimits: /v1/scan is bounded by inputpolicy's size limits of
// the caller's policy (max_chars, max_message_chars, max_messages), as the
// model routes are; a low-privilege key cannot make one scan call cost
// more than one model request may.
func TestScanSizeLimits(t *testing.T) {
	cfg, err := config.Parse([]byte(`
layers:
  inputpolicy:
    max_chars: 1000
    max_message_chars: 600
    max_messages: 3
    on_oversize: truncate
    policies:
      tight: {max_chars: 100}
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	g := newGateway(t, cfg)
	m := acmeEnv(t, g)
	_, user := m.newKey("acme", identity.RoleUser)
	_, tight := m.newKey("acme", identity.RoleUser, `"policy":"tight"`)
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, c := range []struct {
		name, key, body string
		want            int
		code            string
	}{
		{"within", user, `{"items":[{"text":"` + a(500) + `"},{"text":"` + a(400) + `"}]}`, 200, ""},
		{"max_chars single", user, `{"text":"` + a(1001) + `"}`, 400, "context_length_exceeded"},
		{"max_chars over items", user, `{"items":[{"text":"` + a(500) + `"},{"text":"` + a(500) + `"},{"text":"b"}]}`, 400, "context_length_exceeded"},
		{"max_chars counts user", user, `{"text":"` + a(500) + `","user":"` + a(501) + `"}`, 400, "context_length_exceeded"},
		{"max_message_chars", user, `{"items":[{"text":"` + a(601) + `"}]}`, 400, "message_too_large"},
		{"max_messages", user, `{"items":[{"text":"a"},{"text":"b"},{"text":"c"},{"text":"d"}]}`, 400, "too_many_messages"},
		{"multibyte counts characters", user, `{"text":"` + strings.Repeat("é", 550) + `"}`, 200, ""},
		// Tool names are text the scanner reads (task drift): they count too.
		{"max_chars counts tools", user, `{"text":"a","tools":["` + a(1001) + `"]}`, 400, "context_length_exceeded"},
		{"max_chars counts tools over items", user, `{"items":[{"text":"a","tools":["` + a(500) + `"]},{"text":"b","tools":["` + a(500) + `"]}]}`, 400, "context_length_exceeded"},
		{"max_message_chars counts tools", user, `{"items":[{"text":"a","tools":["` + a(300) + `","` + a(300) + `"]}]}`, 400, "message_too_large"},
		{"tools within", user, `{"text":"a","tools":["send_email","` + a(500) + `"]}`, 200, ""},
		{"policy of the key", tight, `{"text":"` + a(101) + `"}`, 400, "context_length_exceeded"},
		{"policy within", tight, `{"text":"` + a(100) + `"}`, 200, ""},
	} {
		w := m.do(http.MethodPost, "/v1/scan", c.key, c.body)
		if w.Code != c.want || (c.code != "" && !strings.Contains(w.Body.String(), `"`+c.code+`"`)) {
			t.Errorf("%s: %d %s", c.name, w.Code, trim(w.Body.String()))
		}
	}
}
