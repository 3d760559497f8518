package incident

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/store"

	"github.com/rampart-ai/rampart/internal/redistest"

	"github.com/rampart-ai/rampart/limits"
)

func redisClient(t testing.TB, url string) *redis.Client {
	o, err := limits.RedisOptions(url, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

var prefixSeq atomic.Int64

// uniquePrefix isolates a test's keys (and lets the test delete them).
func uniquePrefix(t testing.TB, c *redis.Client) string {
	p := fmt.Sprintf("rampart-test:inc:%d:%d:", time.Now().UnixNano(), prefixSeq.Add(1))
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := c.Keys(ctx, p+"*").Result()
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return p
}

// sameFirings compares the firings of the memory and the Redis scorer:
// the same thresholds, counts, and scores up to the decay of the few
// milliseconds between the two clocks.
func sameFirings(t *testing.T, step int, mem, red []Firing) {
	t.Helper()
	names := func(fs []Firing) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Threshold.Name)
		}
		return out
	}
	if !slices.Equal(names(mem), names(red)) {
		t.Fatalf("step %d: memory fired %v, redis fired %v", step, names(mem), names(red))
	}
	for i := range mem {
		m, r := mem[i], red[i]
		if m.Subject != r.Subject || m.Threshold != r.Threshold {
			t.Fatalf("step %d: firing %d: memory %+v, redis %+v", step, i, m, r)
		}
		if math.Abs(m.Score-r.Score) > 1e-3*m.Score {
			t.Fatalf("step %d: %s: memory score %v, redis score %v", step, m.Threshold.Name, m.Score, r.Score)
		}
		if countsText(m.Counts) != countsText(r.Counts) {
			t.Fatalf("step %d: %s: memory counts %v, redis counts %v", step, m.Threshold.Name, m.Counts, r.Counts)
		}
	}
}

// TestRedisScorerMatchesMemory runs sequences of violations through the
// memory scorer and the Redis scorer side by side (each on its own clock:
// the memory one on time.Now, the Redis one on the server's TIME): every
// step must fire the same thresholds with the same counts and scores.
// Threshold scores sit away from sums of whole points so that the decay
// between two steps (milliseconds against a 10m half-life) cannot put the
// two scorers on different sides of one.
func TestRedisScorerMatchesMemory(t *testing.T) {
	c := redisClient(t, redistest.URL(t))
	key := Subject{Scope: ScopeKey, Value: "key_a", Tenant: "acme"}
	user := Subject{Scope: ScopeUser, Value: "alice@example.com", Tenant: "acme"}
	ip := Subject{Scope: ScopeIP, Value: "192.0.2.7"}
	net6 := Subject{Scope: ScopeIP, Value: "2001:db8:1:2::/64"}
	thresholds := []Threshold{
		{Name: "key-alert", Scope: ScopeKey, Score: 9.5, Action: ActionAlert},
		{Name: "key-block", Scope: ScopeKey, Score: 19.5, Action: ActionBlock, TTL: time.Hour},
		{Name: "user-block", Scope: ScopeUser, Score: 4.5, Action: ActionBlock, TTL: time.Hour},
		{Name: "ip-throttle", Scope: ScopeIP, Score: 2.5, Action: ActionThrottle, RPM: 30, TTL: 15 * time.Minute},
		{Name: "ip-block", Scope: ScopeIP, Score: 7.5, Action: ActionBlock, TTL: time.Hour},
	}
	type step struct {
		id    Subject
		kinds []string
		sleep time.Duration // before the step
	}
	inj := []string{KindInjectionBlock}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		steps []step
	}{
		{"key injections", nil, []step{{id: key, kinds: inj}, {id: key, kinds: inj}, {id: key, kinds: inj},
			{id: key, kinds: inj}, {id: key, kinds: inj}, {id: key, kinds: inj}}},
		{"mixed kinds and repeats", nil, []step{
			{id: key, kinds: []string{KindInjectionFlag, KindLimitHit, KindLimitHit}},
			{id: key, kinds: []string{KindContentBlock}},
			{id: key, kinds: []string{KindExtractionFlag, KindAuthFailure}},
			{id: key, kinds: []string{KindLeak}},
			{id: key, kinds: []string{KindLeak, KindOtherBlock}},
		}},
		{"zero severity ignored", func(c *Config) { c.Severities[KindLimitHit] = 0 }, []step{
			{id: ip, kinds: []string{KindLimitHit}}, {id: ip, kinds: []string{KindLimitHit, KindLimitHit}},
			{id: ip, kinds: []string{KindLimitHit, KindAuthFailure}}, {id: ip, kinds: []string{KindAuthFailure, KindAuthFailure}},
		}},
		{"scopes apart", nil, []step{
			{id: user, kinds: inj}, {id: ip, kinds: []string{KindAuthFailure}}, {id: net6, kinds: []string{KindContentBlock}},
			{id: ip, kinds: []string{KindAuthFailure, KindForbidden}}, {id: net6, kinds: []string{KindContentBlock, KindLeak}},
			{id: user, kinds: []string{KindForbidden}}, {id: ip, kinds: []string{KindLeak}},
		}},
		{"tenants and separators apart", nil, []step{
			{id: Subject{Scope: ScopeKey, Tenant: "a:b", Value: "c"}, kinds: inj},
			{id: Subject{Scope: ScopeKey, Tenant: "a", Value: "b:c"}, kinds: inj},
			{id: Subject{Scope: ScopeKey, Tenant: "a:b", Value: "c"}, kinds: inj},
			{id: Subject{Scope: ScopeKey, Tenant: "a\x00", Value: "b:c*"}, kinds: inj},
			{id: Subject{Scope: ScopeKey, Tenant: "a:b", Value: "c"}, kinds: []string{KindLeak, KindLeak}},
			{id: Subject{Scope: ScopeKey, Tenant: "a", Value: "b:c"}, kinds: inj},
		}},
		{"cooldown ends", func(c *Config) {
			c.Thresholds = []Threshold{{Name: "key-alert", Scope: ScopeKey, Score: 4.5, Action: ActionAlert,
				Cooldown: 300 * time.Millisecond}}
		}, []step{{id: key, kinds: inj}, {id: key, kinds: inj}, {id: key, kinds: inj, sleep: 400 * time.Millisecond},
			{id: key, kinds: inj}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(thresholds...)
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			cfg.RedisPrefix = uniquePrefix(t, c)
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			mem, red := NewScorer(cfg), NewRedisScorer(c, cfg, nil)
			fired := 0
			defer func() {
				if fired == 0 && !t.Failed() {
					t.Error("the sequence fired nothing: it compares nothing")
				}
			}()
			for i, s := range tc.steps {
				time.Sleep(s.sleep)
				want := mem.Add(s.id, s.kinds, time.Now())
				got, err := red.AddRedis(context.Background(), s.id, s.kinds)
				if err != nil {
					t.Fatal(err)
				}
				sameFirings(t, i, want, got)
				fired += len(got)
			}
		})
	}
}

// TestRedisScorerDecay checks the server-side decay against the formula:
// the score after a pause lies between the values for the shortest and the
// longest pause the two round trips allow.
func TestRedisScorerDecay(t *testing.T) {
	c := redisClient(t, redistest.URL(t))
	cfg := testConfig(Threshold{Name: "kb", Scope: ScopeKey, Score: 1, Action: ActionAlert, Cooldown: time.Millisecond})
	cfg.HalfLife = time.Second
	cfg.RedisPrefix = uniquePrefix(t, c)
	s := NewRedisScorer(c, cfg, nil)
	k := Subject{Scope: ScopeKey, Value: "key_decay"}
	ctx := context.Background()
	start1 := time.Now()
	if _, err := s.AddRedis(ctx, k, []string{KindInjectionBlock}); err != nil {
		t.Fatal(err)
	}
	end1 := time.Now()
	time.Sleep(300 * time.Millisecond)
	start2 := time.Now()
	f, err := s.AddRedis(ctx, k, []string{KindInjectionBlock})
	end2 := time.Now()
	if err != nil || len(f) != 1 {
		t.Fatal(f, err)
	}
	at := func(d time.Duration) float64 { return 5*math.Exp2(-d.Seconds()/cfg.HalfLife.Seconds()) + 5 }
	lo, hi := at(end2.Sub(start1)), at(start2.Sub(end1))
	if f[0].Score < lo-1e-9 || f[0].Score > hi+1e-9 {
		t.Fatalf("score %v outside [%v, %v]", f[0].Score, lo, hi)
	}
	if f[0].Counts[KindInjectionBlock] != 2 {
		t.Fatalf("counts %v", f[0].Counts)
	}
	// The key lives until the score is below forgetBelow: log2(score/0.01)
	// half-lives (about 10s here), and at least one second more.
	ttl, err := c.PTTL(ctx, s.Key(k)).Result()
	want := time.Duration(math.Log2(f[0].Score/forgetBelow) * float64(time.Second))
	if err != nil || ttl < want || ttl > want+1100*time.Millisecond {
		t.Fatalf("ttl %v (%v), want about %v + 1s", ttl, err, want)
	}
}

// TestRedisScorerForgets checks the reset of the counts once the score has
// decayed below forgetBelow (a 20ms half-life, outside what Validate
// allows, keeps the test short), like the memory scorer's, and that the
// key's expiry covers the longest cooldown.
func TestRedisScorerForgets(t *testing.T) {
	c := redisClient(t, redistest.URL(t))
	cfg := testConfig(Threshold{Name: "ka", Scope: ScopeKey, Score: 5, Action: ActionAlert, Cooldown: time.Millisecond},
		Threshold{Name: "kb", Scope: ScopeKey, Score: 4, Action: ActionBlock, TTL: time.Hour})
	cfg.HalfLife = 20 * time.Millisecond
	cfg.RedisPrefix = uniquePrefix(t, c)
	mem, red := NewScorer(cfg), NewRedisScorer(c, cfg, nil)
	k := Subject{Scope: ScopeKey, Value: "key_forget"}
	ctx := context.Background()
	for i, kinds := range [][]string{{KindInjectionBlock, KindLimitHit}, {KindInjectionFlag}} {
		if i == 1 {
			time.Sleep(300 * time.Millisecond) // 15 half-lives: 5.5 → 0.0002; ka's cooldown over
		}
		want := mem.Add(k, kinds, time.Now())
		got, err := red.AddRedis(ctx, k, kinds)
		if err != nil {
			t.Fatal(err)
		}
		sameFirings(t, i, want, got)
	}
	h, err := c.HGetAll(ctx, red.Key(k)).Result()
	if err != nil || h["c:"+KindInjectionBlock] != "" || h["c:"+KindInjectionFlag] != "1" || h["q:kb"] == "" || h["q:ka"] != "" {
		t.Fatalf("hash %v (%v): want the old counts and the ended cooldown gone, kb's cooldown kept", h, err)
	}
	if ttl, err := c.PTTL(ctx, red.Key(k)).Result(); err != nil || ttl < time.Hour-time.Second || ttl > time.Hour+2*time.Second {
		t.Fatalf("ttl %v (%v), want kb's cooldown (1h)", ttl, err)
	}
}

// blockCounter is a BlockAdder that keeps what it is given.
type blockCounter struct {
	mu     sync.Mutex
	blocks []store.Block
}

func (b *blockCounter) AddBlock(_ context.Context, bl store.Block) (store.Block, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bl.ID = fmt.Sprintf("blk_%d", len(b.blocks))
	b.blocks = append(b.blocks, bl)
	return bl, nil
}

func (b *blockCounter) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.blocks)
}

func injection(id, key, ip string) *engine.Tx {
	return &engine.Tx{ID: id, ClientIP: ip, Identity: &engine.Identity{Tenant: "acme", KeyID: key},
		Outcomes: []engine.Outcome{{Layer: "injection", Phase: engine.PhaseRequest, Action: "block"}}}
}

func startResponder(t *testing.T, cfg Config, o Options) *Responder {
	t.Helper()
	r := New(cfg, o)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func flush(t *testing.T, r *Responder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRedisTwoReplicas runs two responders ("replicas") on one Redis: an
// attacker's violations split between them reach the threshold after as
// many violations as on a single replica, and it fires once across both
// (the cooldown is shared). With the memory backend the same split reaches
// nothing.
func TestRedisTwoReplicas(t *testing.T) {
	url := redistest.URL(t)
	c := redisClient(t, url)
	prefix := uniquePrefix(t, c)
	run := func(backend string) (blocks []int) {
		cfg := Defaults()
		cfg.Enabled, cfg.Backend, cfg.RedisPrefix = true, backend, prefix
		cfg.Thresholds = []Threshold{{Name: "key-block", Scope: ScopeKey, Score: 19, Action: ActionBlock, TTL: time.Hour}}
		b := &blockCounter{}
		cfg1, cfg2 := cfg, cfg
		cfg1.RedisURL = url
		cfg2.RedisURLEnv = "INCIDENT_TEST_REDIS"
		getenv := func(k string) string {
			if k == "INCIDENT_TEST_REDIS" {
				return url
			}
			return ""
		}
		rs := []*Responder{startResponder(t, cfg1, Options{Blocks: b}), startResponder(t, cfg2, Options{Blocks: b, Getenv: getenv})}
		for i := range 10 {
			r := rs[i%2]
			r.Record(injection(fmt.Sprintf("req_%d", i), "key_"+backend, fmt.Sprintf("198.51.100.%d", i)))
			flush(t, r)
			blocks = append(blocks, b.len())
		}
		for _, r := range rs {
			if n := testutil.ToFloat64(r.m.redisErrors); n != 0 {
				t.Fatalf("%s: %v redis errors", backend, n)
			}
		}
		return blocks
	}
	// 4 × 5 points (a little less after decay) ≥ 19 on the 4th violation.
	if got, want := run(BackendRedis), []int{0, 0, 0, 1, 1, 1, 1, 1, 1, 1}; !slices.Equal(got, want) {
		t.Fatalf("redis: blocks after each violation %v, want %v", got, want)
	}
	// Each memory replica sees 5 violations: its own 4th (the 7th and 8th
	// overall) fires, once per replica.
	if got, want := run(BackendMemory), []int{0, 0, 0, 0, 0, 0, 1, 2, 2, 2}; !slices.Equal(got, want) {
		t.Fatalf("memory: blocks after each violation %v, want %v", got, want)
	}
}

// closedPort returns a local address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRedisDownFallsBack points a responder at a closed port: violations
// are scored in memory (the threshold still fires), the failure is
// counted, the worker does not stall, and the URL's password appears in
// no log line.
func TestRedisDownFallsBack(t *testing.T) {
	var logs strings.Builder
	var logMu sync.Mutex
	cfg := Defaults()
	cfg.Enabled, cfg.Backend, cfg.RedisURL = true, BackendRedis, "redis://:s3cret-pass@"+closedPort(t)+"/0"
	cfg.Thresholds = []Threshold{{Name: "key-block", Scope: ScopeKey, Score: 9, Action: ActionBlock, TTL: time.Hour}}
	b := &blockCounter{}
	start := time.Now()
	r := startResponder(t, cfg, Options{Blocks: b, Logger: newTestLogger(&logs, &logMu)})
	for i := range 20 {
		r.Record(injection(fmt.Sprintf("req_%d", i), "key_down", "203.0.113.9"))
	}
	flush(t, r)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("20 violations took %v with redis down", d)
	}
	if b.len() != 1 {
		t.Fatalf("%d blocks, want 1 (from the memory fallback)", b.len())
	}
	// One failed call; the next violations within the retry second do not
	// wait for Redis.
	if n := testutil.ToFloat64(r.m.redisErrors); n < 1 || n > 2 {
		t.Fatalf("rampart_incident_redis_errors_total = %v, want 1 or 2", n)
	}
	if r.scoredLen() != 2 { // the key and the address, in memory
		t.Fatalf("identities in memory %d, want 2", r.scoredLen())
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "redis") || strings.Contains(logs.String(), "s3cret") {
		t.Fatalf("logs: %s", logs.String())
	}
}

// switchProxy forwards TCP to Redis while up; going down closes every
// connection and refuses new ones.
type switchProxy struct {
	l      net.Listener
	target string
	up     atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{l: l, target: target}
	p.up.Store(true)
	t.Cleanup(func() { l.Close(); p.setUp(false) })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if !p.up.Load() {
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *switchProxy) setUp(up bool) {
	p.up.Store(up)
	if !up {
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
		p.mu.Unlock()
	}
}

// TestRedisScorerRecovers: Redis goes away (scores go to memory, the
// error is reported once, Redis is not asked again within the retry
// second) and comes back (scores go to Redis again by themselves).
func TestRedisScorerRecovers(t *testing.T) {
	url := redistest.URL(t)
	c := redisClient(t, url)
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	p := newSwitchProxy(t, o.Addr)
	o.Addr = p.l.Addr().String()
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetries = time.Second, time.Second, time.Second, 1
	viaProxy := redis.NewClient(o)
	defer viaProxy.Close()

	cfg := testConfig(Threshold{Name: "kb", Scope: ScopeKey, Score: 100, Action: ActionAlert})
	cfg.RedisPrefix = uniquePrefix(t, c)
	var errs []error
	s := NewRedisScorer(viaProxy, cfg, func(err error) { errs = append(errs, err) })
	wall := time.Now()
	s.wall = func() time.Time { return wall }
	k := Subject{Scope: ScopeKey, Value: "key_recover"}
	ctx := context.Background()
	stored := func() string { return c.HGet(ctx, s.Key(k), "c:"+KindInjectionBlock).Val() }

	s.Add(k, []string{KindInjectionBlock}, time.Now())
	if stored() != "1" || s.Len() != 0 || len(errs) != 0 {
		t.Fatalf("up: redis count %q, memory %d, errors %v", stored(), s.Len(), errs)
	}
	p.setUp(false)
	s.Add(k, []string{KindInjectionBlock}, time.Now())
	s.Add(k, []string{KindInjectionBlock}, time.Now())
	if stored() != "1" || s.Len() != 1 || len(errs) != 1 {
		t.Fatalf("down: redis count %q, memory %d, errors %v", stored(), s.Len(), errs)
	}
	if strings.Contains(errs[0].Error(), "redis://") {
		t.Fatalf("error names the URL: %v", errs[0])
	}
	p.setUp(true)
	wall = wall.Add(redisRetry)
	s.Add(k, []string{KindInjectionBlock}, time.Now())
	if stored() != "2" || len(errs) != 1 {
		t.Fatalf("back up: redis count %q, errors %v", stored(), errs)
	}
}

// lockedWriter serialises log writes into a shared builder.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newTestLogger(b *strings.Builder, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{mu: mu, b: b}, nil))
}

// TestRedisURLNeverInErrors: a malformed Redis URL (from the config or the
// environment) is refused without repeating it, so its password does not
// reach logs.
func TestRedisURLNeverInErrors(t *testing.T) {
	const bad = "redis://:hunter2-pass@cache.internal:notaport/0"
	cfg := Defaults()
	cfg.Enabled, cfg.Backend, cfg.RedisURL = true, BackendRedis, bad
	cfg.Fill()
	err := cfg.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Validate = %v", err)
	}
	cfg.RedisURL, cfg.RedisURLEnv = "", "INCIDENT_REDIS"
	r := New(cfg, Options{Blocks: &blockCounter{}, Getenv: func(string) string { return bad }})
	err = r.Start()
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "redis url") {
		t.Fatalf("Start = %v", err)
	}
	r.Close()
	r = New(cfg, Options{Blocks: &blockCounter{}, Getenv: func(string) string { return "" }})
	if err := r.Start(); err == nil || !strings.Contains(err.Error(), "INCIDENT_REDIS") {
		t.Fatalf("Start with the variable empty = %v", err)
	}
	r.Close()
}
