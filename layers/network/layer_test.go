package network

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/layertest"
	"github.com/rampart-ai/rampart/provider/openai"
)

func newLayer(t testing.TB, cfg Config) *Layer {
	t.Helper()
	l := New(cfg)
	if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	return l
}

// ipCases are shared with the fuzz seed corpus.
var ipCases = []struct {
	name        string
	allow, deny []string
	ip          string
	want        string // "" admitted, else the rule
}{
	{"no lists: everyone", nil, nil, "203.0.113.5", ""},
	{"deny list hit", nil, []string{"203.0.113.0/24"}, "203.0.113.5", ruleDenied},
	{"deny list miss", nil, []string{"203.0.113.0/24"}, "198.51.100.1", ""},
	{"allow list hit", []string{"10.0.0.0/8"}, nil, "10.1.2.3", ""},
	{"allow list miss", []string{"10.0.0.0/8"}, nil, "11.1.2.3", ruleNotAllowed},
	{"deny wins over allow", []string{"10.0.0.0/8"}, []string{"10.6.6.6"}, "10.6.6.6", ruleDenied},
	{"allow with a denied neighbour", []string{"10.0.0.0/8"}, []string{"10.6.6.6"}, "10.6.6.7", ""},
	{"IPv4-mapped client vs IPv4 deny", nil, []string{"203.0.113.0/24"}, "::ffff:203.0.113.5", ruleDenied},
	{"IPv4-mapped client vs IPv4 allow", []string{"10.0.0.0/8"}, nil, "::ffff:10.0.0.1", ""},
	{"IPv4-mapped deny entry vs IPv4 client", nil, []string{"::ffff:203.0.113.0/120"}, "203.0.113.5", ruleDenied},
	{"IPv6 allow hit", []string{"2001:db8::/32"}, nil, "2001:db8:5::1", ""},
	{"IPv6 allow miss", []string{"2001:db8::/32"}, nil, "2001:db9::1", ruleNotAllowed},
	{"IPv4 allow does not admit IPv6", []string{"0.0.0.0/0"}, nil, "2001:db8::1", ruleNotAllowed},
	{"IPv6 deny-all hits IPv6", nil, []string{"::/0"}, "2001:db8::1", ruleDenied},
	{"IPv6 deny-all spares IPv4", nil, []string{"::/0"}, "192.0.2.1", ""},
	{"IPv6 deny-all spares IPv4-mapped", nil, []string{"::/0"}, "::ffff:192.0.2.1", ""},
	{"single address entry", nil, []string{"198.51.100.7"}, "198.51.100.7", ruleDenied},
	{"unparseable client with allow list", []string{"10.0.0.0/8"}, nil, "", ruleNotAllowed},
	{"unparseable client, deny only", nil, []string{"10.0.0.0/8"}, "garbage", ""},
}

func TestOnHeaders(t *testing.T) {
	for _, tc := range ipCases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayer(t, Config{Allow: tc.allow, Deny: tc.deny})
			d, err := l.OnHeaders(&engine.Tx{ClientIP: tc.ip, Route: "/v1/chat/completions"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if d.Action != engine.Allow {
					t.Fatalf("refused: %+v", d)
				}
				return
			}
			if d.Action != engine.Block || d.Status != 403 || d.Code != Code || d.Rule != tc.want {
				t.Fatalf("decision %+v, want block %s", d, tc.want)
			}
			if tc.ip != "" && strings.Contains(d.Reason, tc.ip) {
				t.Fatal("reason echoes the address")
			}
			if got := testutil.ToFloat64(l.refused.WithLabelValues(tc.want)); got != 1 {
				t.Fatalf("metric %v", got)
			}
		})
	}
}

func TestIPv6DenyAll(t *testing.T) {
	// "::/0" is every IPv6 address; IPv4 (and IPv4-mapped) clients are
	// IPv4 after normalisation and not in it.
	l := newLayer(t, Config{Deny: []string{"::/0"}})
	for ip, ok := range map[string]bool{"2001:db8::1": false, "192.0.2.1": true, "::ffff:192.0.2.1": true} {
		if l.Allowed(ip) != ok {
			t.Errorf("%s allowed=%v", ip, !ok)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Allow: []string{"10.0.0.0/33"}},
		{Deny: []string{"example.com"}},
		{Deny: []string{""}},
		{Allow: []string{"fe80::1%eth0"}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("accepted %+v", c)
		}
		if err := New(c).Provision(&engine.Host{}); err == nil {
			t.Errorf("provisioned %+v", c)
		}
	}
	if err := New(Config{}).Validate(); err == nil {
		t.Fatal("unprovisioned layer validates")
	}
}

func TestConfigFile(t *testing.T) {
	lay := layertest.FromFile(t, "testdata/network.yaml", Module)
	l := lay.(*Layer)
	if err := l.Provision(&engine.Host{}); err != nil {
		t.Fatal(err)
	}
	for ip, ok := range map[string]bool{"192.0.2.10": true, "192.0.2.66": false, "2001:db8:1234:5::1": true,
		"198.51.100.7": true, "198.51.100.8": false} {
		if l.Allowed(ip) != ok {
			t.Errorf("%s allowed=%v, want %v", ip, !ok, ok)
		}
	}
	if _, err := Module.New(strictDecoder([]byte("allow: [10.0.0.0/8]\nallowed: []\n"))); err == nil {
		t.Fatal("unknown key accepted")
	}
}

func strictDecoder(data []byte) func(any) error { return layertest.Decoder(string(data)) }

// TestThroughEngine checks the answer a refused client gets: 403 in the
// OpenAI error shape, before the upstream is called.
func TestThroughEngine(t *testing.T) {
	l := newLayer(t, Config{Deny: []string{"192.0.2.0/24"}})
	eng, err := engine.New(engine.Options{Layers: []engine.Configured{{Layer: l, Mode: engine.ModeEnforce, Failure: engine.FailClosed}}})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	up := engine.UpstreamFunc(func(*engine.Tx, *http.Request, []byte) (*http.Response, error) {
		called = true
		return nil, io.EOF
	})
	h := eng.Handler(engine.Route{Path: "/v1/chat/completions", Kind: conv.KindChat, Adapter: openai.New()}, up)
	req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[]}`))
	req.RemoteAddr = "192.0.2.9:5555"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 403 || called {
		t.Fatalf("status %d, upstream called %v", rec.Code, called)
	}
	var body struct {
		Error struct {
			Message, Type, Code string
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != Code || body.Error.Message == "" {
		t.Fatalf("body %s (%v)", rec.Body.String(), err)
	}
	if strings.Contains(rec.Body.String(), "192.0.2") || strings.Contains(rec.Body.String(), "deny") {
		t.Fatalf("answer echoes internals: %s", rec.Body.String())
	}
}
