package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadKeysDoNotBlockAnAddress: with incident response on (default
// thresholds), anyone sharing an address with other clients (a NAT, a
// company proxy) sent 60 made-up keys: each failure scored the address,
// which was blocked for an hour, and every valid key from it then got 403
// blocked. The login lockout spares valid credentials from such an
// address on purpose; failed authentications now score no address either
// (the lockout already throttles them per address), so valid keys pass.
func TestBadKeysDoNotBlockAnAddress(t *testing.T) {
	cfg := incidentConfig(t, `    incident:
      enabled: true
`)
	g := newGateway(t, cfg)
	e := &incidentEnv{t: t, g: g, admin: adminKey(g)}
	_, key := e.userKey("acme")
	if code, body := e.call(http.MethodPost, "/v1/chat/completions", key, clean); code != http.StatusOK {
		t.Fatalf("before: %d %s", code, body)
	}
	bad := "rk_" + strings.Repeat("A", 43)
	for i := 0; i < 60; i++ {
		e.call(http.MethodPost, "/v1/chat/completions", bad, clean)
	}
	time.Sleep(time.Second) // scoring is asynchronous; blocks refresh every 100ms
	if code, body := e.call(http.MethodPost, "/v1/chat/completions", key, clean); code != http.StatusOK {
		t.Fatalf("a valid key from the address after 60 bad ones: %d %s", code, body)
	}
}
