package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
)

// doFrom sends one request from addr (host:port) with key.
func doFrom(g *Gateway, addr, method, path, key, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	r.RemoteAddr = addr
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w
}

// TestLockoutFromSharedAddress: ten bad keys from an address shared with
// production traffic (a NAT) throttle further bad keys from it, but every
// valid credential from the same address keeps working: model routes, the
// admin API and /metrics.
func TestLockoutFromSharedAddress(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	g := newGateway(t, cfg)
	global := adminKey(g)
	m := &matrixEnv{t: t, g: g, global: global}
	_ = m.do(http.MethodPost, "/admin/tenants", global, `{"id":"acme"}`)
	_, user := m.newKey("acme", identity.RoleUser)
	_, scrape := m.newKey(identity.GlobalTenant, identity.RoleMetrics)
	const nat = "198.51.100.7:4000"
	bad, _ := identity.NewKey()
	chat := `{"model":"rampart-demo","messages":[{"role":"user","content":"hi"}]}`
	for i := 0; i < 10; i++ {
		if w := doFrom(g, nat, http.MethodPost, "/v1/chat/completions", bad, chat); w.Code != http.StatusUnauthorized {
			t.Fatalf("bad key %d: %d", i, w.Code)
		}
	}
	for _, path := range []string{"/v1/chat/completions", "/admin/keys", "/metrics"} {
		w := doFrom(g, nat, http.MethodPost, path, bad, chat)
		if path != "/v1/chat/completions" {
			w = doFrom(g, nat, http.MethodGet, path, bad, "")
		}
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Errorf("bad key on %s after the lockout: %d %v", path, w.Code, w.Header())
		}
	}
	for _, c := range []struct{ method, path, key, body string }{
		{http.MethodPost, "/v1/chat/completions", user, chat},
		{http.MethodPost, "/v1/chat/completions", global, chat},
		{http.MethodGet, "/admin/keys", global, ""},
		{http.MethodGet, "/metrics", scrape, ""},
	} {
		if w := doFrom(g, nat, c.method, c.path, c.key, c.body); w.Code != http.StatusOK {
			t.Errorf("valid key on %s from the shared address: %d %s", c.path, w.Code, trim(w.Body.String()))
		}
	}
}
