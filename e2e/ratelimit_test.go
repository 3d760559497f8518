package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/gateway"
	"github.com/rampart-ai/rampart/layers/ratelimit"

	"github.com/rampart-ai/rampart/internal/redistest"
)

// rlGateway starts a demo-model gateway whose only layer is ratelimit(cfg).
func rlGateway(t *testing.T, cfg ratelimit.Config) *httptest.Server {
	t.Helper()
	l := ratelimit.New(cfg)
	if err := l.Provision(&engine.Host{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	g, err := gateway.New(nil, gateway.WithLayers(engine.Configured{Layer: l}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func rlPost(t *testing.T, url string) (int, http.Header, string) {
	resp, err := http.Post(url+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}`))
	if err != nil {
		t.Error(err)
		return 0, nil, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, resp.Header, string(b)
}

// TestRateLimitTwoReplicas runs two gateways sharing one Redis and hits
// both at once from the same client IP: together they admit what one limit
// allows, not twice as much.
func TestRateLimitTwoReplicas(t *testing.T) {
	url := redistest.URL(t)
	const rpm, burst = 120, 40
	cfg := ratelimit.Config{Backend: ratelimit.BackendRedis, RedisURL: url,
		RedisPrefix: fmt.Sprintf("rampart-e2e:%d:", time.Now().UnixNano()),
		Rules:       []ratelimit.Rule{{Name: "shared-ip", Scope: ratelimit.ScopeIP, RPM: rpm, Burst: burst}}}
	a, b := rlGateway(t, cfg), rlGateway(t, cfg)
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 8; w++ {
		srv := a
		if w%2 == 1 {
			srv = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				status, h, body := rlPost(t, srv.URL)
				switch status {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
					if h.Get("Retry-After") == "" || h.Get("X-RateLimit-Limit") != "120" ||
						h.Get("x-ratelimit-remaining-requests") != "0" || !strings.Contains(body, "rate_limit_exceeded") {
						t.Errorf("429 without rate-limit headers or code: %v %s", h, body)
					}
				default:
					t.Errorf("status %d: %s", status, body)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	bound := int64(burst) + int64(el/(time.Minute/rpm)) + 1
	t.Logf("2 replicas, 120 requests: %d admitted, %d limited in %v (bound %d)", ok.Load(), limited.Load(), el, bound)
	if got := ok.Load(); got < burst || got > bound {
		t.Fatalf("admitted %d, want %d..%d", got, burst, bound)
	}
}

// TestRateLimitRedisDownFailsClosed points the layer at a port where no
// Redis listens: requests get 503 (the engine's fail-closed answer), not
// a silent pass.
func TestRateLimitRedisDownFailsClosed(t *testing.T) {
	redistest.URL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := rlGateway(t, ratelimit.Config{Backend: ratelimit.BackendRedis, RedisURL: "redis://" + addr + "/0",
		RedisTimeout: 100 * time.Millisecond,
		Rules:        []ratelimit.Rule{{Scope: ratelimit.ScopeIP, RPM: 100}}})
	status, _, body := rlPost(t, srv.URL)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "ratelimit") {
		t.Fatalf("redis down: %d %s", status, body)
	}
}
