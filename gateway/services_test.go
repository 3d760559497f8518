package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/internal/redistest"
)

// redisClientURL is the test Redis's URL with a client name unique to the
// test, so its connections can be counted in CLIENT LIST.
func redisClientURL(t *testing.T) (url, base, name string) {
	base = redistest.URL(t)
	name = fmt.Sprintf("rampart-svc-%d", time.Now().UnixNano())
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "client_name=" + name, base, name
}

// redisClients counts the connections named name.
func redisClients(t *testing.T, base, name string) int {
	t.Helper()
	opts, err := redis.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(list, "name="+name+" ")
}

// eventually polls cond for up to 5 s (connections and goroutines end
// asynchronously after Close).
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// servicesPolicy: identity (shared service), blocklist (shared cache and
// throttles), rate limits on Redis (a client per generation) or in memory
// (a shared backend), extraction (shared state) and optionally the guard
// model with a credential variable that is unset, whose Provision fails
// after the layers before it took their services.
func servicesPolicy(dir, redisURL, term string, memory, failing bool) string {
	backend := fmt.Sprintf("backend: redis\n    redis_url: %q\n    redis_prefix: %q", redisURL, "rampart-svc-"+term+":")
	if memory {
		backend = "backend: memory"
	}
	p := fmt.Sprintf(`data_dir: %s
layers:
  ratelimit:
    %s
    rules:
      - name: per-ip
        scope: ip
        rpm: 1000000
  extraction:
    mode: monitor
  injection:
    mode: monitor
`, dir, backend) + bannedTopic(term)
	if failing {
		p += `  guardmodel:
    mode: monitor
    endpoint: http://127.0.0.1:1/v1
    model: guard
    api_key_env: RAMPART_TEST_SURELY_UNSET_GUARD_KEY
`
	}
	return p
}

// heldBalance checks that every reference in the pool belongs to the
// generation in force or to the gateway: the replaced and the failed
// generations released theirs.
func heldBalance(g *Gateway) (bool, string) {
	want := map[string]int{}
	if gen := g.cur.Load(); gen != nil {
		for _, n := range gen.svc.Held() {
			want[n]++
		}
	}
	for _, n := range g.own.Held() {
		want[n]++
	}
	got := g.pool.Refs()
	if len(got) != len(want) {
		return false, fmt.Sprintf("pool %v, held by the current generation and the gateway %v", got, want)
	}
	for k, v := range got {
		if want[k] != v {
			return false, fmt.Sprintf("pool %v, held by the current generation and the gateway %v", got, want)
		}
	}
	return true, ""
}

// Reloading many times leaks nothing: one Redis client (the generation in
// force), a stable number of goroutines, and shared services referenced
// only by the generation in force and the gateway. A reload whose
// Provision fails releases what its layers took (a Redis client, a memory
// backend created for it). Close brings every reference count to zero.
func TestReloadReleasesSharedServices(t *testing.T) {
	url, base, name := redisClientURL(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	writeFile(t, path, servicesPolicy(dir, url, "term0", false, false))
	load := func() (*config.Config, error) { return config.LoadEnv(path, nil) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	g := newGateway(t, cfg, WithConfigLoader(load))
	key := adminKey(g)
	if key == "" {
		t.Fatal("no bootstrap admin key")
	}
	h := g.Handler()
	send := func() {
		r := httptest.NewRequest(http.MethodPost, "/v1/chat/completions",
			strings.NewReader(`{"model":"rampart-demo","messages":[{"role":"user","content":"hello"}]}`))
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("chat: %d %s", w.Code, w.Body)
		}
	}
	reload := func(policy string) error {
		writeFile(t, path, policy)
		err := g.Reload()
		g.draining.Wait()
		return err
	}
	for _, k := range []string{"identity.store", "identity.service", "blocklist.store", "blocklist.cache",
		"blocklist.throttle", "extraction.state"} {
		if g.pool.Refs()[k] == 0 {
			t.Fatalf("%s not in the pool: %v", k, g.pool.Refs())
		}
	}
	// Warm up (the first request and reload start what stays for the
	// gateway's life), then count goroutines.
	send()
	if err := reload(servicesPolicy(dir, url, "term1", false, false)); err != nil {
		t.Fatal(err)
	}
	send()
	runtime.GC()
	base0 := runtime.NumGoroutine()
	const n = 12
	for i := 2; i < n+2; i++ {
		if err := reload(servicesPolicy(dir, url, fmt.Sprintf("term%d", i), false, false)); err != nil {
			t.Fatal(err)
		}
		send()
	}
	eventually(t, "redis clients after reloads", func() (bool, string) {
		c := redisClients(t, base, name)
		return c == 1, fmt.Sprintf("%d connections named %s, want 1", c, name)
	})
	eventually(t, "goroutines after reloads", func() (bool, string) {
		now := runtime.NumGoroutine()
		return now <= base0+3, fmt.Sprintf("%d goroutines after %d reloads, %d before", now, n, base0)
	})
	if ok, msg := heldBalance(g); !ok {
		t.Fatal(msg)
	}

	// Failed reloads: the rate limiter's Redis client of the failed
	// generation is closed; a memory backend created for it is released.
	if err := reload(servicesPolicy(dir, url, "fail1", false, true)); err == nil ||
		!strings.Contains(err.Error(), "layers.guardmodel: provision") {
		t.Fatalf("want the guard model's provision error, got %v", err)
	}
	if err := reload(servicesPolicy(dir, url, "fail2", true, true)); err == nil {
		t.Fatal("failing reload succeeded")
	}
	if _, ok := g.pool.Refs()["ratelimit.memory"]; ok {
		t.Fatalf("memory backend of a failed generation still referenced: %v", g.pool.Refs())
	}
	if ok, msg := heldBalance(g); !ok {
		t.Fatal(msg)
	}
	eventually(t, "redis clients after failed reloads", func() (bool, string) {
		c := redisClients(t, base, name)
		return c == 1, fmt.Sprintf("%d connections named %s, want 1", c, name)
	})
	send()

	// Switching to the memory backend: the Redis client goes with the
	// replaced generation, the backend is shared from now on; switching
	// back releases it.
	if err := reload(servicesPolicy(dir, url, "mem", true, false)); err != nil {
		t.Fatal(err)
	}
	if g.pool.Refs()["ratelimit.memory"] != 1 {
		t.Fatalf("memory backend not shared: %v", g.pool.Refs())
	}
	eventually(t, "redis clients with the memory backend", func() (bool, string) {
		c := redisClients(t, base, name)
		return c == 0, fmt.Sprintf("%d connections named %s, want 0", c, name)
	})
	if err := reload(servicesPolicy(dir, url, "back", false, false)); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.pool.Refs()["ratelimit.memory"]; ok {
		t.Fatalf("memory backend kept after no configuration uses it: %v", g.pool.Refs())
	}
	send()

	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if refs := g.pool.Refs(); len(refs) != 0 {
		t.Fatalf("references left after Close: %v", refs)
	}
	eventually(t, "redis clients after Close", func() (bool, string) {
		c := redisClients(t, base, name)
		return c == 0, fmt.Sprintf("%d connections named %s, want 0", c, name)
	})
}

// A gateway whose start fails after the store and shared services were
// opened (here the first chain's Provision) releases them all.
func TestNewFailureReleasesSharedServices(t *testing.T) {
	url, base, name := redisClientURL(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "rampart.yaml")
	writeFile(t, path, servicesPolicy(dir, url, "x", false, true))
	before := runtime.NumGoroutine()
	cfg, err := config.LoadEnv(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, WithLogger(quiet), WithBootstrapOutput(io.Discard)); err == nil ||
		!strings.Contains(err.Error(), "layers.guardmodel: provision") {
		t.Fatalf("want the guard model's provision error, got %v", err)
	}
	eventually(t, "redis clients after a failed start", func() (bool, string) {
		c := redisClients(t, base, name)
		return c == 0, fmt.Sprintf("%d connections named %s, want 0", c, name)
	})
	eventually(t, "goroutines after a failed start", func() (bool, string) {
		now := runtime.NumGoroutine()
		return now <= before+2, fmt.Sprintf("%d goroutines, %d before", now, before)
	})
}
