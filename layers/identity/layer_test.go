package identity_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	ident "github.com/rampart-ai/rampart/identity"
	layer "github.com/rampart-ai/rampart/layers/identity"
	"github.com/rampart-ai/rampart/store/sqlite"
)

func setup(t testing.TB, cfg ident.Config) (*layer.Layer, *ident.Service, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := ident.NewService(cfg, db, bytes.Repeat([]byte("z"), 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return layer.NewWithService(svc), svc, db
}

func tx(route, model string, h http.Header) *engine.Tx {
	kind := conv.KindChat
	if route == "/v1/models" {
		kind = conv.KindModels
	}
	x := &engine.Tx{Ctx: context.Background(), Route: route, ClientIP: "198.51.100.1", Header: h,
		Request: &conv.Conversation{Kind: kind, Model: model}}
	if route == "/healthz" {
		x.Method = http.MethodGet
	}
	return x
}

func auth(key string) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }

func TestOnRequest(t *testing.T) {
	l, svc, _ := setup(t, ident.Config{})
	ctx := context.Background()
	if _, err := svc.CreateTenant(ctx, ident.Tenant{ID: "acme", Models: []string{"gpt-4o*"}, Policy: "strict"}); err != nil {
		t.Fatal(err)
	}
	user, _, _ := svc.CreateKey(ctx, ident.KeySpec{Name: "u", Tenant: "acme", Role: ident.RoleUser})
	viewer, _, _ := svc.CreateKey(ctx, ident.KeySpec{Name: "v", Tenant: "acme", Role: ident.RoleViewer})
	unknown, _ := ident.NewKey()

	cases := []struct {
		name         string
		tx           *engine.Tx
		status       int
		code         string
		wantIdentity bool
	}{
		{"user chat", tx("/v1/chat/completions", "gpt-4o-mini", auth(user)), 0, "", true},
		{"x-api-key", tx("/v1/chat/completions", "gpt-4o", http.Header{"X-Api-Key": {user}}), 0, "", true},
		{"viewer models", tx("/v1/models", "", auth(viewer)), 0, "", true},
		{"viewer chat", tx("/v1/chat/completions", "gpt-4o", auth(viewer)), 403, "permission_denied", true},
		{"model not allowed", tx("/v1/chat/completions", "claude-3", auth(user)), 403, "model_not_allowed", true},
		{"unknown route", tx("/v1/secret", "gpt-4o", auth(user)), 403, "permission_denied", true},
		{"no credentials", tx("/v1/chat/completions", "gpt-4o", http.Header{}), 401, "invalid_api_key", false},
		{"unknown key", tx("/v1/chat/completions", "gpt-4o", auth(unknown)), 401, "invalid_api_key", false},
		{"nil header", tx("/v1/chat/completions", "gpt-4o", nil), 401, "invalid_api_key", false},
		{"public route", tx("/healthz", "", http.Header{}), 0, "", false},
	}
	for _, c := range cases {
		d, err := l.OnRequest(c.tx)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.status == 0 {
			if d.Action != engine.Allow {
				t.Errorf("%s: blocked %d %s", c.name, d.Status, d.Code)
			}
		} else if d.Action != engine.Block || d.Status != c.status || d.Code != c.code || d.Reason == "" {
			t.Errorf("%s: decision %+v, want %d %s", c.name, d, c.status, c.code)
		}
		if (c.tx.Identity != nil) != c.wantIdentity {
			t.Errorf("%s: identity set = %v", c.name, c.tx.Identity != nil)
		}
		if c.tx.Identity != nil && (c.tx.Identity.Tenant != "acme" || c.tx.Identity.Policy != "strict" || c.tx.Identity.KeyID == "") {
			t.Errorf("%s: identity %+v", c.name, c.tx.Identity)
		}
	}
	// The gateway-recorded method wins over inference.
	x := tx("/v1/chat/completions", "gpt-4o", auth(user))
	x.Method = http.MethodGet
	if d, _ := l.OnRequest(x); d.Code != "permission_denied" {
		t.Errorf("GET /v1/chat/completions: %+v", d)
	}
}

func TestLockoutAnd503(t *testing.T) {
	l, svc, db := setup(t, ident.Config{Lockout: ident.LockoutConfig{MaxFailures: 3}})
	ctx := context.Background()
	_, _ = svc.CreateTenant(ctx, ident.Tenant{ID: "acme"})
	good, _, _ := svc.CreateKey(ctx, ident.KeySpec{Name: "u", Tenant: "acme", Role: ident.RoleUser})
	unused, _, _ := svc.CreateKey(ctx, ident.KeySpec{Name: "u2", Tenant: "acme", Role: ident.RoleUser})
	bad, _ := ident.NewKey()
	for i := 0; i < 3; i++ {
		if d, _ := l.OnRequest(tx("/v1/chat/completions", "m", auth(bad))); d.Status != 401 {
			t.Fatalf("attempt %d: %+v", i, d)
		}
	}
	// Further bad keys are throttled; the valid key from the same address
	// passes (the lockout throttles failures only).
	d, _ := l.OnRequest(tx("/v1/chat/completions", "m", auth(bad)))
	if d.Status != 429 || d.Code != "too_many_auth_failures" || d.Headers["Retry-After"] == "" {
		t.Fatalf("lockout: %+v", d)
	}
	if d, _ := l.OnRequest(tx("/v1/chat/completions", "m", auth(good))); d.Action == engine.Block {
		t.Fatalf("valid key from the locked-out address: %+v", d)
	}
	other := tx("/v1/chat/completions", "m", auth(unused)) // not cached
	other.ClientIP = "198.51.100.2"
	db.Close()
	if d, err := l.OnRequest(other); err != nil || d.Status != 503 || d.Code != "identity_unavailable" {
		t.Fatalf("store down: %+v %v", d, err)
	}
}

func TestRequireAuthOff(t *testing.T) {
	off := false
	l, _, _ := setup(t, ident.Config{RequireAuth: &off})
	x := tx("/v1/chat/completions", "m", http.Header{})
	if d, _ := l.OnRequest(x); d.Action != engine.Allow || x.Identity != nil {
		t.Fatalf("anonymous with require_auth off: %+v", d)
	}
	bad, _ := ident.NewKey()
	if d, _ := l.OnRequest(tx("/v1/chat/completions", "m", auth(bad))); d.Status != 401 {
		t.Fatalf("bad key with require_auth off: %+v", d)
	}
}

// TestModuleProvision builds the layer the way the chain does: config
// decoded from YAML (testdata/config.yaml), store from Host.Services.
func TestModuleProvision(t *testing.T) {
	raw, err := os.ReadFile("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	decode := func(into any) error {
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		return dec.Decode(into)
	}
	lay, err := layer.Module.New(decode)
	if err != nil {
		t.Fatal(err)
	}
	if layer.Module.DefaultMode != engine.ModeEnforce || lay.Name() != "identity" {
		t.Fatal("module metadata")
	}
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Setenv(ident.PepperEnv, "")
	pool := engine.NewPool()
	gw := pool.Holder() // what the gateway holds: the store
	if err := engine.Provide(gw, layer.StoreKey, ident.Store(db), nil); err != nil {
		t.Fatal(err)
	}
	h := &engine.Host{DataDir: dir, Services: pool.Holder()}
	l := lay.(*layer.Layer)
	if err := l.Provision(h); err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		l.Close()
		h.Services.Release()
		gw.Release()
		if refs := pool.Refs(); len(refs) != 0 {
			t.Errorf("references left after release: %v", refs)
		}
	}()
	svc, ok := engine.Use(gw, layer.ServiceKey)
	if !ok || svc != l.Service() {
		t.Fatal("service not shared")
	}
	if cfg := svc.Config(); cfg.CacheTTL.Seconds() != 2 || cfg.Lockout.MaxFailures != 20 || !svc.RequireAuth() {
		t.Fatalf("config not decoded: %+v", cfg)
	}
	if _, err := os.Stat(filepath.Join(dir, ident.PepperFile)); err != nil {
		t.Fatalf("pepper file not created: %v", err)
	}
	bad := func(into any) error { return yaml.Unmarshal([]byte("cache_ttl: [1]"), into) }
	if _, err := layer.Module.New(bad); err == nil {
		t.Fatal("bad config accepted")
	}
}

func FuzzOnRequest(f *testing.F) {
	l, _, _ := setup(f, ident.Config{Lockout: ident.LockoutConfig{MaxFailures: -1}})
	f.Add("/v1/chat/completions", "gpt-4o", "Bearer rk_x", "")
	f.Add("/admin/keys", "", "", "rk_"+string(bytes.Repeat([]byte("a"), 43)))
	f.Add("/healthz", "", "Basic x", "")
	f.Fuzz(func(t *testing.T, route, model, authz, apiKey string) {
		h := http.Header{}
		if authz != "" {
			h["Authorization"] = []string{authz}
		}
		if apiKey != "" {
			h["X-Api-Key"] = []string{apiKey}
		}
		x := tx(route, model, h)
		d, err := l.OnRequest(x)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action == engine.Allow && x.Identity != nil {
			t.Fatal("fuzzed credentials authenticated")
		}
		if d.Action == engine.Allow {
			if p, ok := ident.RequiredPermission("POST", route); !ok || p != ident.PermPublic {
				if p2, ok2 := ident.RequiredPermission("GET", route); !ok2 || p2 != ident.PermPublic {
					t.Fatalf("unauthenticated request allowed on %q", route)
				}
			}
		}
	})
}
