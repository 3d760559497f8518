package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

// BenchmarkPoolOrder is the router's cost per request before any upstream
// call: finding the model's pool among 8 upstreams and ordering 3 members.
func BenchmarkPoolOrder(b *testing.B) {
	hs := newHealthSet(nil)
	var ups []*upstream
	for i, m := range []string{"gpt-*", "gpt-*", "gpt-*", "claude-*", "o3*", "text-*", "llama*", "mistral*"} {
		name := string(rune('a' + i))
		ups = append(ups, &upstream{name: name, provider: "openai", models: []string{m}, weight: i + 1,
			health: hs.get(name, config.Breaker{})})
	}
	for _, s := range config.Strategies {
		b.Run(s, func(b *testing.B) {
			p := &proxy{ups: ups, routing: config.Routing{Strategy: s}, health: hs}
			b.ReportAllocs()
			for b.Loop() {
				pool := p.members("openai", "/v1/chat/completions", "gpt-4o")
				if len(p.order(pool, p.strategy("gpt-4o"))) != 3 {
					b.Fatal("pool")
				}
			}
		})
	}
}

// BenchmarkGatewayPool compares a whole request through the gateway to a
// single upstream and to the first healthy member of a pool of three.
func BenchmarkGatewayPool(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(map[int]string{1: "single", 3: "pool3"}[n], func(b *testing.B) {
			var ups []config.Upstream
			for i := 0; i < n; i++ {
				m := newBenchMock(b)
				ups = append(ups, config.Upstream{Name: string(rune('a' + i)), Provider: "openai", BaseURL: m + "/v1",
					APIKeyEnv: "OPENAI_API_KEY", Models: []string{"gpt-*"}})
			}
			cfg := config.Default()
			cfg.DataDir = b.TempDir()
			cfg.Upstreams = ups
			// Identity and rate limits off: the benchmark sends thousands
			// of requests from one address.
			cfg.Layers = map[string]config.Layer{"identity": {Mode: "off"}, "ratelimit": {Mode: "off"}}
			cfg.Audit.Enabled = new(bool)
			g, err := New(cfg, WithLogger(quiet), WithGetenv(env(nil)))
			if err != nil {
				b.Fatal(err)
			}
			defer g.Close()
			b.ReportAllocs()
			for b.Loop() {
				if w := benchPost(g, chatReq); w != 200 {
					b.Fatal(w)
				}
			}
		})
	}
}

func newBenchMock(b *testing.B) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatAnswer)
	}))
	b.Cleanup(s.Close)
	return s.URL
}

func benchPost(h http.Handler, body string) int {
	r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}
