package blocklist

import (
	"context"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/internal/layertest"
	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/sqlite"
)

var ctx = context.Background()

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func add(t *testing.T, s store.BlockStore, kind, value, tenant, action string, rpm int64, ttl time.Duration) store.Block {
	t.Helper()
	b, err := s.AddBlock(ctx, store.Block{Kind: kind, Value: value, Tenant: tenant, Action: action, RPM: rpm,
		Reason: "test", CreatedBy: "key_admin", ExpiresAt: time.Now().Add(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLookup(t *testing.T) {
	db := openSQLite(t)
	kb := add(t, db, store.BlockKey, "key_bad", "acme", store.ActionBlock, 0, time.Hour)
	ub := add(t, db, store.BlockUser, "mallory", "acme", store.ActionBlock, 0, time.Hour)
	ipb := add(t, db, store.BlockIP, "192.0.2.10", "", store.ActionBlock, 0, time.Hour)
	netb := add(t, db, store.BlockCIDR, "198.51.100.0/24", "", store.ActionBlock, 0, time.Hour)
	nett := add(t, db, store.BlockIP, "198.51.100.9", "", store.ActionThrottle, 10, time.Hour)
	v6 := add(t, db, store.BlockCIDR, "2001:db8:1::/48", "", store.ActionThrottle, 60, time.Hour)
	v6strict := add(t, db, store.BlockCIDR, "2001:db8:1::/48", "", store.ActionThrottle, 5, time.Hour)
	kt := add(t, db, store.BlockKey, "key_slow", "acme", store.ActionThrottle, 20, time.Hour)
	short := add(t, db, store.BlockKey, "key_short", "acme", store.ActionBlock, 0, 2*time.Second)

	now := time.Now()
	clk := &now
	c := NewCache(db, nil, WithCacheClock(func() time.Time { return *clk }))
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name              string
		ip, key, ten, sub string
		block             string
		throttles         []string
		after             time.Duration
	}{
		{name: "nothing", ip: "203.0.113.1", key: "key_ok", ten: "acme", sub: "alice"},
		{name: "key", ip: "203.0.113.1", key: "key_bad", block: kb.ID},
		{name: "user", ip: "203.0.113.1", key: "key_x", ten: "acme", sub: "mallory", block: ub.ID},
		{name: "same user other tenant", ip: "203.0.113.1", ten: "beta", sub: "mallory"},
		{name: "ip", ip: "192.0.2.10", block: ipb.ID},
		{name: "ip neighbour", ip: "192.0.2.11"},
		{name: "mapped ip", ip: "::ffff:192.0.2.10", block: ipb.ID},
		{name: "cidr", ip: "198.51.100.77", block: netb.ID},
		// The /24 block wins over the narrower throttle inside it.
		{name: "block beats narrower throttle", ip: "198.51.100.9", block: netb.ID, throttles: []string{nett.ID}},
		{name: "v6 strictest throttle", ip: "2001:db8:1:2::5", throttles: []string{v6strict.ID}},
		{name: "v6 outside", ip: "2001:db8:2::5"},
		{name: "key throttle and ip throttle", ip: "2001:db8:1::1", key: "key_slow", throttles: []string{kt.ID, v6strict.ID}},
		{name: "no address", ip: "", key: "key_ok"},
		{name: "short block active", key: "key_short", block: short.ID},
		{name: "short block expired in memory", key: "key_short", after: 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := now.Add(tc.after)
			clk = &at
			ip, _ := netip.ParseAddr(tc.ip)
			v := c.Lookup(ip, tc.key, tc.ten, tc.sub)
			got := ""
			if v.Block != nil {
				got = v.Block.ID
			}
			if got != tc.block {
				t.Fatalf("block = %q, want %q", got, tc.block)
			}
			var th []string
			for i := range v.NThrottles {
				th = append(th, v.Throttles[i].ID)
			}
			if strings.Join(th, ",") != strings.Join(tc.throttles, ",") {
				t.Fatalf("throttles = %v, want %v", th, tc.throttles)
			}
		})
	}
	_ = v6
}

func newLayer(t *testing.T, db store.BlockStore) *Layer {
	t.Helper()
	l := New(Defaults())
	pool := engine.NewPool()
	gw := pool.Holder()
	if err := engine.Provide(gw, StoreKey, db, nil); err != nil {
		t.Fatal(err)
	}
	h := &engine.Host{Services: pool.Holder()}
	if err := l.Provision(h); err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		h.Services.Release()
		gw.Release()
		if refs := pool.Refs(); len(refs) != 0 {
			t.Errorf("references left after release: %v", refs)
		}
	})
	return l
}

func TestOnHeaders(t *testing.T) {
	db := openSQLite(t)
	l := newLayer(t, db)
	add(t, l.Cache(), store.BlockKey, "key_bad", "acme", store.ActionBlock, 0, time.Hour)
	add(t, l.Cache(), store.BlockIP, "192.0.2.50", "", store.ActionThrottle, 6, time.Hour) // burst 1
	for _, tc := range []struct {
		name       string
		tx         engine.Tx
		status     int
		code       string
		retryAfter bool
	}{
		{name: "clean", tx: engine.Tx{ClientIP: "192.0.2.1", Identity: &engine.Identity{KeyID: "key_ok", Tenant: "acme"}}},
		{name: "anonymous", tx: engine.Tx{ClientIP: "192.0.2.1"}},
		{name: "garbage address", tx: engine.Tx{ClientIP: "not-an-ip"}},
		{name: "blocked key", tx: engine.Tx{ClientIP: "192.0.2.1", Identity: &engine.Identity{KeyID: "key_bad", Tenant: "acme"}},
			status: http.StatusForbidden, code: CodeBlocked},
		{name: "throttle first passes", tx: engine.Tx{ClientIP: "192.0.2.50"}},
		{name: "throttle second refused", tx: engine.Tx{ClientIP: "192.0.2.50"}, status: http.StatusTooManyRequests,
			code: CodeThrottled, retryAfter: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := l.OnHeaders(&tc.tx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.status == 0 {
				if d.Action != engine.Allow {
					t.Fatalf("decision = %+v, want allow", d)
				}
				return
			}
			if d.Action != engine.Block || d.Status != tc.status || d.Code != tc.code {
				t.Fatalf("decision = %+v", d)
			}
			if strings.Contains(d.Reason, "test") || strings.Contains(d.Reason, "key_admin") || strings.Contains(d.Reason, "blk_") {
				t.Fatalf("client message leaks internals: %q", d.Reason)
			}
			if tc.retryAfter && d.Headers["Retry-After"] == "" {
				t.Fatal("no Retry-After")
			}
		})
	}
}

// TestStoreDownKeepsBlocks closes the store under a running cache: the
// refresh fails, is counted, and the loaded blocks stay in force.
func TestStoreDownKeepsBlocks(t *testing.T) {
	db := openSQLite(t)
	b := add(t, db, store.BlockKey, "key_bad", "acme", store.ActionBlock, 0, time.Hour)
	c := NewCache(db, nil)
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := c.Reload(ctx); err == nil {
		t.Fatal("Reload on a closed store succeeded")
	}
	if v := c.Lookup(netip.Addr{}, "key_bad", "", ""); v.Block == nil || v.Block.ID != b.ID {
		t.Fatalf("block lost after a failed refresh: %+v", v)
	}
}

func TestProvisionNeedsBlockStore(t *testing.T) {
	l := New(Defaults())
	if err := l.Provision(&engine.Host{Services: engine.NewPool().Holder()}); err == nil {
		t.Fatal("Provision without a block store succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Defaults(), true},
		{"fast refresh", Config{RefreshInterval: time.Millisecond}, false},
		{"slow refresh", Config{RefreshInterval: 2 * time.Hour}, false},
		{"purge", Config{PurgeInterval: time.Millisecond}, false},
	} {
		c := tc.cfg
		c.fill()
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
}

func TestConfigFile(t *testing.T) {
	lay := layertest.FromFile(t, "testdata/blocklist.yaml", Module)
	cfg := lay.(*Layer).Config()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.RefreshInterval != 2*time.Second || cfg.PurgeInterval != 5*time.Minute || cfg.Incident.Enabled {
		t.Fatalf("%+v", cfg)
	}
	// The deprecated place of the incident section still decodes (the
	// top-level section is tested in package layers).
	dep, err := DecodeConfig(layertest.Decoder("incident: {enabled: true, half_life: 2m}"))
	if err != nil || !dep.Incident.Enabled || dep.Incident.HalfLife != 2*time.Minute || len(dep.Incident.Thresholds) == 0 {
		t.Fatalf("deprecated incident: %v %+v", err, dep.Incident)
	}
	// Unknown keys are errors.
	if _, err := Module.New(layertest.Decoder("incident: {thresholds: [{scope: key, score: 1, action: block, bogus: 1}]}")); err == nil {
		t.Fatal("unknown key accepted")
	}
}
