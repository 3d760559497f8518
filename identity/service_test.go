package identity_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/identity"
)

func TestKeyAuthentication(t *testing.T) {
	db := openDB(t)
	c := newClock()
	s := newSvc(t, db, identity.Config{}, c)
	mustTenant(t, s, "acme", "gpt-4o*", "claude-*")
	plain, k := mustKey(t, s, identity.KeySpec{Name: "bot", Tenant: "acme", Role: identity.RoleDeveloper,
		Models: []string{"gpt-*"}, Limits: map[string]int64{"rpm": 5}})

	for name, cred := range map[string]identity.Credentials{
		"bearer":    bearer(plain),
		"x-api-key": {Header: http.Header{"X-Api-Key": {plain}}},
		"both same": {Header: http.Header{"X-Api-Key": {plain}, "Authorization": {"bearer " + plain}}},
	} {
		p, err := s.Authenticate(ctx, cred)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Tenant != "acme" || p.KeyID != k.ID || p.Role != identity.RoleDeveloper || p.Subject != "bot" ||
			p.Policy != "pol-acme" || p.Source != "key" || p.Limits["rpm"] != 5 {
			t.Fatalf("%s: principal = %+v", name, p)
		}
		// Both the tenant's and the key's allow-lists apply.
		if !p.ModelAllowed("gpt-4o-mini") || p.ModelAllowed("gpt-3.5") || p.ModelAllowed("claude-3") {
			t.Fatalf("%s: model allow-list wrong", name)
		}
		id := p.EngineIdentity()
		id.Tenant = "mutated"
		if p.Tenant != "acme" {
			t.Fatal("EngineIdentity shares state with the cached principal")
		}
	}

	other, _ := identity.NewKey()
	bad := map[string]identity.Credentials{
		"unknown key":       bearer(other),
		"malformed key":     bearer("rk_nope"),
		"conflicting":       {Header: http.Header{"X-Api-Key": {plain}, "Authorization": {"Bearer " + other}}},
		"basic auth":        {Header: http.Header{"Authorization": {"Basic " + plain}}},
		"non-rk x-api-key":  {Header: http.Header{"X-Api-Key": {"sk-123"}}},
		"jwt not enabled":   bearer("a.b.c"),
		"two authorization": {Header: http.Header{"Authorization": {"Bearer " + plain, "Bearer " + plain}}},
		"case changed":      bearer(strings.ToUpper(plain[:10]) + plain[10:]),
	}
	for name, cred := range bad {
		if _, err := s.Authenticate(ctx, cred); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("%s: err = %v, want ErrInvalidCredentials", name, err)
		}
		if err := func() error { _, err := s.Authenticate(ctx, cred); return err }(); err != nil && strings.Contains(err.Error(), plain[9:]) {
			t.Errorf("%s: error text contains the key", name)
		}
	}
	if _, err := s.Authenticate(ctx, identity.Credentials{Header: http.Header{}}); !errors.Is(err, identity.ErrNoCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
}

func TestExpiredKey(t *testing.T) {
	db := openDB(t)
	c := newClock()
	s := newSvc(t, db, identity.Config{}, c)
	mustTenant(t, s, "acme")
	plain, _ := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser, ExpiresAt: c.now().Add(time.Hour)})
	if _, err := s.Authenticate(ctx, bearer(plain)); err != nil {
		t.Fatal(err)
	}
	c.add(time.Hour) // cached entry: expiry is still checked against now
	if _, err := s.Authenticate(ctx, bearer(plain)); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("expired key: %v", err)
	}
	// Explicit expiry (the "expire" operation).
	plain2, k2 := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	if _, err := s.Authenticate(ctx, bearer(plain2)); err != nil {
		t.Fatal(err)
	}
	if err := s.ExpireKey(ctx, k2.ID, c.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, bearer(plain2)); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("expired (ExpireKey) key: %v", err)
	}
	if _, _, err := s.CreateKey(ctx, identity.KeySpec{Name: "x", Tenant: "acme", Role: identity.RoleUser, ExpiresAt: c.now().Add(-time.Second)}); err == nil {
		t.Fatal("key expiring in the past accepted")
	}
}

func TestRevokedKeySameReplica(t *testing.T) {
	db := openDB(t)
	s := newSvc(t, db, identity.Config{}, nil)
	mustTenant(t, s, "acme")
	plain, k := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	if _, err := s.Authenticate(ctx, bearer(plain)); err != nil { // now cached
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, bearer(plain)); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("revoked key still accepted on the same replica: %v", err)
	}
	if err := s.RevokeKey(ctx, "key_missing"); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("revoke missing: %v", err)
	}
}

// TestRevokedKeyOtherReplica: two services share one store; a revocation
// on A reaches B through the polled generation, well before the cache TTL.
func TestRevokedKeyOtherReplica(t *testing.T) {
	db := openDB(t)
	cfg := identity.Config{CacheTTL: time.Hour, GenerationPoll: 10 * time.Millisecond}
	a := newSvc(t, db, cfg, nil)
	b := newSvc(t, db, cfg, nil)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mustTenant(t, a, "acme")
	plain, k := mustKey(t, a, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	if _, err := b.Authenticate(ctx, bearer(plain)); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := b.Authenticate(ctx, bearer(plain))
		if errors.Is(err, identity.ErrInvalidCredentials) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica B still accepts the revoked key (cache TTL 1h): %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCacheTTLBoundsStaleness: without the poller, the cache TTL alone
// bounds how long another replica's revocation goes unnoticed.
func TestCacheTTLBoundsStaleness(t *testing.T) {
	db := openDB(t)
	c := newClock()
	a := newSvc(t, db, identity.Config{}, nil)
	b := newSvc(t, db, identity.Config{CacheTTL: 5 * time.Second}, c) // never started
	mustTenant(t, a, "acme")
	plain, k := mustKey(t, a, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	if _, err := b.Authenticate(ctx, bearer(plain)); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, bearer(plain)); err != nil {
		t.Fatalf("within TTL the cached entry is used (documented bound): %v", err)
	}
	c.add(5 * time.Second)
	if _, err := b.Authenticate(ctx, bearer(plain)); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("after TTL the revoked key is still accepted: %v", err)
	}
}

func TestRotation(t *testing.T) {
	db := openDB(t)
	c := newClock()
	s := newSvc(t, db, identity.Config{}, c)
	mustTenant(t, s, "acme")
	old, k := mustKey(t, s, identity.KeySpec{Name: "svc", Tenant: "acme", Role: identity.RoleDeveloper, Models: []string{"gpt-*"}})
	if _, err := s.Authenticate(ctx, bearer(old)); err != nil {
		t.Fatal(err)
	}
	next, nk, err := s.RotateKey(ctx, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if next == old || nk.ID == k.ID || nk.Role != identity.RoleDeveloper || nk.Name != "svc" || len(nk.Models) != 1 {
		t.Fatalf("rotated key = %+v", nk)
	}
	// Within grace both work.
	for _, key := range []string{old, next} {
		if _, err := s.Authenticate(ctx, bearer(key)); err != nil {
			t.Fatalf("within grace: %v", err)
		}
	}
	c.add(time.Hour)
	if _, err := s.Authenticate(ctx, bearer(old)); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("old key after grace: %v", err)
	}
	if _, err := s.Authenticate(ctx, bearer(next)); err != nil {
		t.Fatalf("new key after grace: %v", err)
	}
	// Rotating a key that no longer works is refused.
	if _, _, err := s.RotateKey(ctx, k.ID, 0); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("rotate expired key: %v", err)
	}
	// Grace 0: the old key stops at once.
	next2, _, err := s.RotateKey(ctx, nk.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, bearer(next)); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("old key after zero-grace rotation: %v", err)
	}
	if _, err := s.Authenticate(ctx, bearer(next2)); err != nil {
		t.Fatal(err)
	}
}

func TestLockout(t *testing.T) {
	db := openDB(t)
	c := newClock()
	s := newSvc(t, db, identity.Config{}, c) // defaults: 10 failures / 1m → 5m
	mustTenant(t, s, "acme")
	good, _ := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	bad, _ := identity.NewKey()
	for i := 0; i < 10; i++ {
		if _, err := s.Authenticate(ctx, bearer(bad)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// The address is throttled for failed attempts only: more bad keys
	// get 429, a valid key from the same address (a NAT shared with the
	// attacker) passes.
	var locked *identity.LockedOutError
	if _, err := s.Authenticate(ctx, bearer(bad)); !errors.As(err, &locked) || locked.RetryAfter != 5*time.Minute {
		t.Fatalf("11th bad key: %v", err)
	}
	if _, err := s.Authenticate(ctx, bearer(good)); err != nil {
		t.Fatalf("a valid key from the locked-out address: %v", err)
	}
	other := bearer(bad)
	other.ClientIP = "192.0.2.99"
	if _, err := s.Authenticate(ctx, other); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("another IP is affected: %v", err)
	}
	c.add(5 * time.Minute)
	if _, err := s.Authenticate(ctx, bearer(bad)); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("after the lockout: %v", err)
	}
	// Failures spread beyond the window do not lock.
	for i := 0; i < 20; i++ {
		_, _ = s.Authenticate(ctx, bearer(bad))
		c.add(7 * time.Second)
	}
	if _, err := s.Authenticate(ctx, bearer(good)); err != nil {
		t.Fatalf("slow failures locked the IP: %v", err)
	}
}

func TestLockoutBoundedMemory(t *testing.T) {
	db := openDB(t)
	s := newSvc(t, db, identity.Config{Lockout: identity.LockoutConfig{MaxFailures: 2, MaxTracked: 16}}, nil)
	bad, _ := identity.NewKey()
	cred := bearer(bad)
	_, _ = s.Authenticate(ctx, cred)
	_, _ = s.Authenticate(ctx, cred)
	var locked *identity.LockedOutError
	if _, err := s.Authenticate(ctx, cred); !errors.As(err, &locked) {
		t.Fatalf("not locked: %v", err)
	}
	for i := 0; i < 100; i++ { // floods the tracker: the oldest entry is evicted
		c := bearer(bad)
		c.ClientIP = "10.0.0." + string(rune('a'+i%26)) + string(rune('a'+i/26))
		_, _ = s.Authenticate(ctx, c)
	}
	if _, err := s.Authenticate(ctx, cred); errors.As(err, &locked) {
		t.Fatal("tracker grew beyond max_tracked (entry not evicted)")
	}
}

func TestStoreUnavailableFailsClosed(t *testing.T) {
	db := openDB(t)
	s := newSvc(t, db, identity.Config{}, nil)
	mustTenant(t, s, "acme")
	plain, _ := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	db.Close()
	if _, err := s.Authenticate(ctx, bearer(plain)); !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("closed store: %v", err)
	}
}

func TestTenantModelsAndGlobalKey(t *testing.T) {
	db := openDB(t)
	s := newSvc(t, db, identity.Config{}, nil)
	mustTenant(t, s, "acme", "gpt-4o")
	plain, _ := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	p, err := s.Authenticate(ctx, bearer(plain))
	if err != nil {
		t.Fatal(err)
	}
	if !p.ModelAllowed("gpt-4o") || p.ModelAllowed("gpt-4o-mini") || len(p.Models) != 1 {
		t.Fatalf("tenant allow-list: %+v", p)
	}
	g, _ := mustKey(t, s, identity.KeySpec{Tenant: identity.GlobalTenant, Role: identity.RoleAdmin})
	gp, err := s.Authenticate(ctx, bearer(g))
	if err != nil || !gp.Global() || !gp.ModelAllowed("anything") {
		t.Fatalf("global key: %+v, %v", gp, err)
	}
	if _, _, err := s.CreateKey(ctx, identity.KeySpec{Name: "x", Tenant: "nope", Role: identity.RoleUser}); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("key for a missing tenant: %v", err)
	}
	if _, _, err := s.CreateKey(ctx, identity.KeySpec{Name: "x", Tenant: "acme", Role: "root"}); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
	if _, err := s.CreateTenant(ctx, identity.Tenant{ID: "Bad Name"}); !errors.Is(err, identity.ErrInvalid) {
		t.Fatalf("bad tenant id: %v", err)
	}
}

func TestLastUsedCoalesced(t *testing.T) {
	db := openDB(t)
	s, err := identity.NewService(identity.Config{}, db, pepper, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustTenant(t, s, "acme")
	plain, k := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	for i := 0; i < 50; i++ {
		if _, err := s.Authenticate(ctx, bearer(plain)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := db.GetKey(ctx, k.ID); !got.LastUsedAt.IsZero() {
		t.Fatal("last used written synchronously")
	}
	if err := s.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	if got, _ := db.GetKey(ctx, k.ID); got.LastUsedAt.IsZero() {
		t.Fatal("last used never written")
	}
}

func TestBootstrap(t *testing.T) {
	db := openDB(t)
	s := newSvc(t, db, identity.Config{}, nil)
	var out bytes.Buffer
	if err := identity.Bootstrap(ctx, s, &out); err != nil {
		t.Fatal(err)
	}
	var key string
	for _, f := range strings.Fields(out.String()) {
		if identity.LooksLikeKey(f) {
			key = f
		}
	}
	if key == "" {
		t.Fatalf("no key printed: %q", out.String())
	}
	p, err := s.Authenticate(ctx, bearer(key))
	if err != nil || !p.Global() || p.Role != identity.RoleAdmin {
		t.Fatalf("bootstrap key: %+v, %v", p, err)
	}
	out.Reset()
	if err := identity.Bootstrap(ctx, s, &out); err != nil || out.Len() != 0 {
		t.Fatalf("second bootstrap did something: %q, %v", out.String(), err)
	}
}

func TestBootstrapFromHash(t *testing.T) {
	db := openDB(t)
	key, _ := identity.NewKey()
	h, _ := identity.NewHasher(pepper)
	cfg := identity.Config{BootstrapAdminKeyHash: hexOf(h.Hash(key))}
	s := newSvc(t, db, cfg, nil)
	var out bytes.Buffer
	if err := identity.Bootstrap(ctx, s, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), key) || strings.Contains(out.String(), "rk_"+key[3:9]) {
		t.Fatal("bootstrap from hash printed a key")
	}
	if p, err := s.Authenticate(ctx, bearer(key)); err != nil || !p.Global() {
		t.Fatalf("hash-bootstrapped key: %v", err)
	}
}

func hexOf(b []byte) string {
	const d = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, d[c>>4], d[c&15])
	}
	return string(out)
}

func TestConfigValidation(t *testing.T) {
	for name, cfg := range map[string]identity.Config{
		"oidc without audience": {OIDC: identity.OIDCConfig{Issuer: "https://idp"}},
		"oidc alg none":         {OIDC: identity.OIDCConfig{Issuer: "https://idp", Audience: "a", Algorithms: []string{"none"}}},
		"oidc alg HS256":        {OIDC: identity.OIDCConfig{Issuer: "https://idp", Audience: "a", Algorithms: []string{"HS256"}}},
		"bad role map":          {Claims: identity.ClaimsConfig{RoleMap: map[string]string{"x": "root"}}},
		"bad mtls from":         {MTLS: identity.MTLSConfig{From: "serial"}},
		"huge leeway":           {JWT: identity.JWTConfig{Leeway: time.Hour}},
		"short hs secret":       {JWT: identity.JWTConfig{HS256SecretEnv: "RAMPART_TEST_EMPTY_SECRET"}},
		"bad bootstrap hash":    {BootstrapAdminKeyHash: "abc"},
	} {
		if _, err := identity.NewService(cfg, openDB(t), pepper, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// emptyLooking reports no keys, as a replica sees a shared store it
// checked just before another replica bootstrapped it.
type emptyLooking struct{ identity.Store }

func (emptyLooking) CountKeys(context.Context) (int, error) { return 0, nil }

// TestBootstrapFromHashRace: replicas starting together on one empty shared
// store all try to create the admin key from the same hash; the ones that
// lose the race start normally and there is still exactly one key.
func TestBootstrapFromHashRace(t *testing.T) {
	db := openDB(t)
	key, _ := identity.NewKey()
	h, _ := identity.NewHasher(pepper)
	cfg := identity.Config{BootstrapAdminKeyHash: hexOf(h.Hash(key))}
	for i := 0; i < 3; i++ {
		s := newSvc(t, emptyLooking{db}, cfg, nil)
		if err := identity.Bootstrap(ctx, s, io.Discard); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	if n, err := db.CountKeys(ctx); err != nil || n != 1 {
		t.Fatalf("%d keys after three bootstraps (%v), want 1", n, err)
	}
}

// hangingStore blocks every key and tenant lookup until its context ends
// while hang is set (a SIGSTOPped database).
type hangingStore struct {
	identity.Store
	hang atomic.Bool
}

func (h *hangingStore) KeyByHash(ctx context.Context, sum []byte) (identity.Key, error) {
	if h.hang.Load() {
		<-ctx.Done()
		return identity.Key{}, ctx.Err()
	}
	return h.Store.KeyByHash(ctx, sum)
}

func (h *hangingStore) GetTenant(ctx context.Context, id string) (identity.Tenant, error) {
	if h.hang.Load() {
		<-ctx.Done()
		return identity.Tenant{}, ctx.Err()
	}
	return h.Store.GetTenant(ctx, id)
}

// TestStoreTimeoutAndGrace: a hung store costs at most store_timeout, and
// keys verified within cache_grace keep working through the outage (not
// unknown keys, not after the grace, not after a revocation was seen).
func TestStoreTimeoutAndGrace(t *testing.T) {
	st := &hangingStore{Store: openDB(t)}
	c := newClock()
	s := newSvc(t, st, identity.Config{StoreTimeout: 200 * time.Millisecond, CacheGrace: time.Minute}, c)
	mustTenant(t, s, "acme")
	used, _ := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	unused, _ := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	if _, err := s.Authenticate(ctx, bearer(used)); err != nil {
		t.Fatal(err)
	}
	st.hang.Store(true)
	c.add(10 * time.Second) // past cache_ttl (5s)
	start := time.Now()
	if _, err := s.Authenticate(ctx, bearer(unused)); !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("unknown key while the store hangs: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a hung store stalled authentication for %s (store_timeout 200ms)", d)
	}
	p, err := s.Authenticate(ctx, bearer(used))
	if err != nil || p.Tenant != "acme" {
		t.Fatalf("recently verified key during the outage: %v", err)
	}
	if s.Graced() == 0 {
		t.Fatal("grace not counted")
	}
	c.add(time.Minute) // past cache_grace
	if _, err := s.Authenticate(ctx, bearer(used)); !errors.Is(err, identity.ErrUnavailable) {
		t.Fatalf("after the grace: %v", err)
	}
}

func TestSetLimitsSameReplica(t *testing.T) {
	db := openDB(t)
	s := newSvc(t, db, identity.Config{}, nil)
	mustTenant(t, s, "acme")
	plain, k := mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser, Limits: map[string]int64{"rpm": 5}})
	if p, err := s.Authenticate(ctx, bearer(plain)); err != nil || p.Limits["rpm"] != 5 { // now cached
		t.Fatal(p, err)
	}
	if err := s.SetKeyLimits(ctx, k.ID, map[string]int64{"rpm": 9}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Authenticate(ctx, bearer(plain)); err != nil || p.Limits["rpm"] != 9 {
		t.Fatalf("cached limits after change: %v %v", p, err)
	}
	if err := s.SetTenantLimits(ctx, "acme", map[string]int64{"tpm": 100}); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Authenticate(ctx, bearer(plain)); err != nil || p.Limits["tpm"] != 100 {
		t.Fatalf("cached tenant limits after change: %v %v", p, err)
	}
	if err := s.SetKeyLimits(ctx, "key_missing", nil); !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
}
