package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

// TestIPListsCoverEveryRoute: the network layer's deny list refuses a
// client on the admin API, metrics and scan routes too, not only on the
// model routes the engine serves; health probes stay open.
func TestIPListsCoverEveryRoute(t *testing.T) {
	cfg := config.Default()
	cfg.Layers = map[string]config.Layer{"network": {Mode: "enforce", Options: map[string]any{"deny": []any{"192.0.2.0/24"}}}}
	g := newGateway(t, cfg)
	for _, tc := range []struct {
		method, path, from string
		want               int
	}{
		{http.MethodGet, "/admin/roles", "192.0.2.7:1234", http.StatusForbidden},
		{http.MethodGet, "/metrics", "192.0.2.7:1234", http.StatusForbidden},
		{http.MethodPost, "/v1/scan", "192.0.2.7:1234", http.StatusForbidden},
		{http.MethodPost, "/v1/chat/completions", "192.0.2.7:1234", http.StatusForbidden},
		{http.MethodGet, "/healthz", "192.0.2.7:1234", http.StatusOK},
		{http.MethodGet, "/readyz", "192.0.2.7:1234", http.StatusOK},
		{http.MethodGet, "/admin/roles", "198.51.100.1:1234", http.StatusOK},
		{http.MethodGet, "/metrics", "198.51.100.1:1234", http.StatusOK},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"text":"hi","model":"demo","messages":[{"role":"user","content":"hi"}]}`))
		r.RemoteAddr = tc.from
		authorize(g, r)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s %s from %s: %d, want %d: %s", tc.method, tc.path, tc.from, w.Code, tc.want, w.Body.String())
		}
		if tc.want == http.StatusForbidden && !strings.Contains(w.Body.String(), `"ip_not_allowed"`) {
			t.Errorf("%s %s: refusal without the ip_not_allowed code: %s", tc.method, tc.path, w.Body.String())
		}
	}
}
