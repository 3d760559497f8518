package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/internal/redistest"
)

// A layer whose Provision fails half-way is closed, as Caddy cleans up a
// module that failed to provision: here the rate limiter has opened (and
// pinged) its Redis client when registering its metrics fails, and that
// connection must not outlive the failed build (one per failed reload).
func TestBuildChainClosesFailedProvision(t *testing.T) {
	base := redistest.URL(t)
	name := fmt.Sprintf("rampart-leak-%d", time.Now().UnixNano())
	url := base + "?client_name=" + name
	if strings.Contains(base, "?") {
		url = base + "&client_name=" + name
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf("layers:\n  identity:\n    mode: \"off\"\n  blocklist:\n    mode: \"off\"\n"+
		"  ratelimit:\n    backend: redis\n    redis_url: %q\n", url)))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	// A collector of the same name and another shape: the rate limiter's
	// registration fails after its client is open.
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "rampart_ratelimit_denied_total", Help: "conflict"}))
	pool := engine.NewPool()
	host := &engine.Host{Logger: quiet, Registerer: reg, DataDir: t.TempDir(), Services: pool.Holder()}
	_, closers, err := buildChain(cfg, host)
	if err == nil || !strings.Contains(err.Error(), "layers.ratelimit: provision") {
		t.Fatalf("want the rate limiter's provision error, got %v", err)
	}
	closeAll(closers)
	host.Services.Release()
	if refs := pool.Refs(); len(refs) != 0 {
		t.Fatalf("shared services left after the failed build: %v", refs)
	}

	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opts)
	defer admin.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := admin.ClientList(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(list, "name="+name+" ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed layer's Redis connection is still open:\n%s", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
