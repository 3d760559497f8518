package limits

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampart-ai/rampart/internal/redistest"
)

func newRedis(t testing.TB, url string) *Redis {
	r, err := NewRedisURL(url, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if err := r.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func uniquePrefix(t testing.TB) string {
	return fmt.Sprintf("rampart-test:%s:%d:", t.Name(), time.Now().UnixNano())
}

func TestRedisTable(t *testing.T) {
	r := newRedis(t, redistest.URL(t))
	runTable(t, r, uniquePrefix(t), nil)
}

// TestRedisScriptReload flushes the script cache (as a Redis restart does):
// the next call must reload the script by itself.
func TestRedisScriptReload(t *testing.T) {
	r := newRedis(t, redistest.URL(t))
	p := uniquePrefix(t)
	c := []Check{rateCheck(p+"k", 60, 5, 1)}
	out := make([]Status, 1)
	if ok, err := r.Admit(ctx, c, out); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := r.c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Admit(ctx, c, out); err != nil || !ok || out[0].Remaining != 3 {
		t.Fatal(ok, err, out[0])
	}
}

// TestRedisMultiReplica runs several independent backends (one client
// each, like separate gateway replicas) against the same keys at once: the
// admitted total must stay within the limit (plus what the time the test
// takes earns back).
func TestRedisMultiReplica(t *testing.T) {
	url := redistest.URL(t)
	const replicas, workers, perWorker = 3, 8, 60
	const rpm, burst = 600, 100
	p := uniquePrefix(t)
	var admitted, denied atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < replicas; i++ {
		r := newRedis(t, url)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := make([]Status, 2)
				for n := 0; n < perWorker; n++ {
					cs := []Check{rateCheck(p+"shared", rpm, burst, 1),
						{Kind: Counter, Key: p + "budget", Limit: 1_000_000, Cost: 1, Expires: time.Now().Add(time.Hour)}}
					ok, err := r.Admit(ctx, cs, out)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						admitted.Add(1)
					} else {
						denied.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	el := time.Since(start)
	// GCRA admits burst at once plus one per interval (100 ms) since.
	max := int64(burst) + int64(el/(time.Minute/rpm)) + 1
	got := admitted.Load()
	t.Logf("%d replicas × %d workers: %d admitted, %d denied in %v (bound %d)", replicas, workers, got, denied.Load(), el, max)
	if got > max || got < burst {
		t.Fatalf("admitted %d, want between %d and %d", got, burst, max)
	}
	// The counter saw exactly the admitted requests (all-or-nothing).
	v, err := redis.NewClient(mustParse(t, url)).Get(ctx, p+"budget").Int64()
	if err != nil || v != got {
		t.Fatalf("budget counter %d (%v), want %d", v, err, got)
	}
}

func mustParse(t testing.TB, url string) *redis.Options {
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestRedisDownAndRecovery runs a private redis-server, stops it (calls
// must fail with ErrUnavailable, quickly), restarts it on the same port and
// checks that the same client recovers by itself.
func TestRedisDownAndRecovery(t *testing.T) {
	redistest.URL(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed (scripts/redis.sh installs it)")
	}
	port := freePort(t)
	dir := t.TempDir()
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "log"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cmd := start()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	r, err := NewRedisURL(url, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitUp(t, r)
	c := []Check{rateCheck("k", 600, 100, 1)}
	out := make([]Status, 1)
	if ok, err := r.Admit(ctx, c, out); err != nil || !ok {
		t.Fatal(ok, err)
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	_, err = r.Admit(ctx, c, out)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("redis down: err %v, want ErrUnavailable", err)
	}
	if err := r.Settle(ctx, c); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("settle with redis down: %v", err)
	}

	cmd = start()
	waitUp(t, r)
	if ok, err := r.Admit(ctx, c, out); err != nil || !ok {
		t.Fatalf("after restart: %v %v", ok, err)
	}
}

func waitUp(t *testing.T, r *Redis) {
	deadline := time.Now().Add(10 * time.Second)
	for r.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRedisURLNotInError: a malformed URL's error never repeats it (it may
// hold a password).
func TestRedisURLNotInError(t *testing.T) {
	for _, bad := range []string{
		"redis://:hunter2-pass@cache.internal:notaport/0",
		"redis://user:hunter2-pass@cache internal:6379/0",
		"http://:hunter2-pass@cache.internal:6379/0",
	} {
		_, err := NewRedisURL(bad, time.Second)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}
