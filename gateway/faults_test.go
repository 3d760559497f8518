package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/postgres"
)

// The fault tests stop and SIGSTOP databases, so each starts a private
// instance (scripts/services.sh and scripts/redis.sh with their own
// directory and port), never the shared test services. They run when the
// shared services are configured (the same machines have the binaries).

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func needServices(t *testing.T, env string) {
	t.Helper()
	if testing.Short() {
		t.Skip("fault test (starts its own database)")
	}
	if os.Getenv(env) == "" {
		if os.Getenv("RAMPART_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal(env + " unset")
		}
		t.Skip(env + " unset: no database binaries assumed")
	}
}

// privatePG is a PostgreSQL cluster of this test only.
type privatePG struct {
	t    *testing.T
	dir  string
	port int
	dsn  string
}

func (p *privatePG) script(args ...string) string {
	p.t.Helper()
	cmd := exec.Command("bash", append([]string{"../scripts/services.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "RAMPART_PG_DIR="+p.dir, "RAMPART_PG_PORT="+strconv.Itoa(p.port))
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		p.t.Fatalf("services.sh %v: %v %s", args, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func startPrivatePG(t *testing.T) *privatePG {
	needServices(t, "RAMPART_TEST_POSTGRES_DSN")
	// Not t.TempDir: the cluster is owned by the postgres user.
	dir, err := os.MkdirTemp("", "rampart-faultpg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(dir) // services.sh creates it with the right owner
	p := &privatePG{t: t, dir: dir, port: freePort(t)}
	p.dsn = p.script("start")
	t.Cleanup(func() {
		p.cont()
		cmd := exec.Command("bash", "../scripts/services.sh", "destroy")
		cmd.Env = append(os.Environ(), "RAMPART_PG_DIR="+p.dir, "RAMPART_PG_PORT="+strconv.Itoa(p.port))
		_ = cmd.Run()
		os.RemoveAll(p.dir)
	})
	return p
}

// pids are the postmaster and its children (every backend) of this cluster.
func (p *privatePG) pids() []int {
	b, err := os.ReadFile(filepath.Join(p.dir, "data", "postmaster.pid"))
	if err != nil {
		return nil
	}
	master, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return nil
	}
	out := []int{master}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(master) {
			out = append(out, pid)
		}
	}
	return out
}

func (p *privatePG) signal(sig syscall.Signal) {
	for _, pid := range p.pids() {
		_ = syscall.Kill(pid, sig)
	}
}
func (p *privatePG) stopProcesses() { p.signal(syscall.SIGSTOP) }
func (p *privatePG) cont()          { p.signal(syscall.SIGCONT) }

// TestPostgresOutage: with the store stopped and then hung (SIGSTOP),
// requests of recently verified keys keep being answered within the store
// timeout, unknown keys get 503 within it, and every audit record of the
// outage reaches the store after it (spooled locally meanwhile); nothing is
// counted as dropped.
func TestPostgresOutage(t *testing.T) {
	pg := startPrivatePG(t)
	db, err := postgres.Open(context.Background(), pg.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Audit.SpoolReplay = 100 * time.Millisecond
	g := newGateway(t, cfg, WithStore(db))
	m := acmeEnv(t, g)
	keyID, key := m.newKey("acme", identity.RoleUser)
	_, unused := m.newKey("acme", identity.RoleUser)
	chat := `{"model":"rampart-demo","messages":[{"role":"user","content":"hello"}]}`
	sent := 0
	call := func(k string) (int, time.Duration) {
		start := time.Now()
		w := m.do(http.MethodPost, "/v1/chat/completions", k, chat)
		if k == key {
			sent++
		}
		return w.Code, time.Since(start)
	}
	if st, _ := call(key); st != http.StatusOK {
		t.Fatalf("before the outage: %d", st)
	}
	for _, fault := range []string{"stopped", "SIGSTOP"} {
		if fault == "stopped" {
			pg.script("stop")
		} else {
			pg.stopProcesses()
		}
		var slowest time.Duration
		for i := 0; i < 10; i++ {
			st, d := call(key)
			slowest = max(slowest, d)
			if st != http.StatusOK || d > 5*time.Second {
				t.Errorf("%s store, cached key: %d after %s", fault, st, d)
			}
		}
		st, d := call(unused)
		t.Logf("%s store: cached key answered 200 within %s (slowest of 10); a key never verified 503 after %s", fault, slowest, d)
		if st != http.StatusServiceUnavailable || d > 5*time.Second {
			t.Errorf("%s store, key never verified: %d after %s (want 503 within the store timeout)", fault, st, d)
		}
		waitFor(t, fault+": records spooled", func() bool { return g.alog.Spooled() > 0 })
		if fault == "stopped" {
			pg.script("start")
		} else {
			pg.cont()
		}
		if st, _ := call(key); st != http.StatusOK {
			t.Fatalf("after the %s store is back: %d", fault, st)
		}
	}
	// Every request of the key is in the store once the spool is replayed.
	waitFor(t, "spool replayed", func() bool {
		recs, err := db.QueryAudit(context.Background(), store.AuditFilter{KeyID: keyID, Limit: 1000})
		return err == nil && len(recs) == sent && g.alog.Spooled() == 0
	})
	if n := g.alog.Dropped(); n != 0 {
		t.Fatalf("%d audit records dropped", n)
	}
	fmt.Fprintf(os.Stderr, "TestPostgresOutage: %d requests audited through two outages\n", sent)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// privateRedis is a Redis of this test only.
type privateRedis struct {
	t    *testing.T
	dir  string
	port int
}

func (r *privateRedis) script(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("bash", append([]string{"../scripts/redis.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "RAMPART_REDIS_DIR="+r.dir, "RAMPART_REDIS_PORT="+strconv.Itoa(r.port))
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("redis.sh %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func (r *privateRedis) signal(sig syscall.Signal) {
	b, err := os.ReadFile(filepath.Join(r.dir, "redis.pid"))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
		_ = syscall.Kill(pid, sig)
	}
}

// TestRedisOutage: with the rate limiter's Redis stopped or hung, requests
// are answered within the Redis timeout: 503 with failure: closed (the
// default), never a stall; they pass again once Redis is back.
func TestRedisOutage(t *testing.T) {
	needServices(t, "RAMPART_TEST_REDIS_URL")
	r := &privateRedis{t: t, dir: t.TempDir(), port: freePort(t)}
	url := r.script("start")
	t.Cleanup(func() { r.signal(syscall.SIGCONT); r.script("stop") })
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Layers = map[string]config.Layer{"ratelimit": {Options: map[string]any{"backend": "redis", "redis_url": url,
		"redis_prefix": fmt.Sprintf("rampart-fault:%d:", time.Now().UnixNano())}}}
	g := newGateway(t, cfg)
	key := adminKey(g)
	chat := `{"model":"rampart-demo","messages":[{"role":"user","content":"hello"}]}`
	call := func() (int, time.Duration) {
		start := time.Now()
		w := doFrom(g, "192.0.2.50:1000", http.MethodPost, "/v1/chat/completions", key, chat)
		return w.Code, time.Since(start)
	}
	if st, _ := call(); st != http.StatusOK {
		t.Fatalf("before: %d", st)
	}
	for _, fault := range []string{"SIGSTOP", "stopped"} {
		if fault == "stopped" {
			r.script("stop")
		} else {
			r.signal(syscall.SIGSTOP)
		}
		for i := 0; i < 5; i++ {
			if st, d := call(); st != http.StatusServiceUnavailable || d > 3*time.Second {
				t.Errorf("%s Redis: %d after %s, want 503 within the Redis timeout", fault, st, d)
			}
		}
		if fault == "stopped" {
			url2 := r.script("start")
			if url2 != url {
				t.Skipf("Redis came back on another port (%s)", url2)
			}
		} else {
			r.signal(syscall.SIGCONT)
		}
		waitFor(t, "requests pass after the "+fault+" Redis is back", func() bool { st, _ := call(); return st == http.StatusOK })
	}
}
