package identity

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rampart-ai/rampart/engine"
)

// Authentication errors. Callers map them to HTTP answers: ErrNoCredentials
// and ErrInvalidCredentials → 401 invalid_api_key, *LockedOutError → 429,
// ErrUnavailable → 503 (fail closed).
var (
	ErrNoCredentials      = errors.New("identity: no credentials")
	ErrInvalidCredentials = errors.New("identity: invalid credentials")
	ErrUnavailable        = errors.New("identity: identity store unavailable")
)

// LockedOutError is returned while a client IP is locked out after too
// many failed authentications.
type LockedOutError struct{ RetryAfter time.Duration }

func (e *LockedOutError) Error() string {
	return fmt.Sprintf("identity: too many failed authentications, retry in %s", e.RetryAfter.Round(time.Second))
}

// Credentials is what a request presents.
type Credentials struct {
	Header   http.Header
	ClientIP string
	// TLS is the request's connection state (nil for plain HTTP); only
	// verified client certificates (VerifiedChains) are used.
	TLS *tls.ConnectionState
}

// Principal is an authenticated caller.
type Principal struct {
	engine.Identity
	// Source is how the caller authenticated: "key", "jwt", "oidc", "mtls".
	Source string
	// ExpiresAt is when the caller's key stops working (zero: never, and
	// for tokens and certificates). The admin API lets no key create or
	// rotate keys that outlive it.
	ExpiresAt time.Time
	// Replaced reports that the caller's key was rotated out: it works for
	// its grace period so that applications can move to the new key, but
	// administers nothing.
	Replaced bool
	// modelSets are the allow-lists that must all admit a model (tenant's,
	// key's); an empty set admits any model.
	modelSets [][]string
	// keyModels is the allow-list of the caller's own key (empty: the key
	// narrows nothing); keys it creates may admit no model outside it.
	keyModels []string
}

// Global reports whether the principal manages every tenant.
func (p *Principal) Global() bool { return p.Tenant == GlobalTenant }

// ModelAllowed reports whether the principal may use model: the tenant's
// and the key's allow-lists (globs, path.Match) must both admit it.
func (p *Principal) ModelAllowed(model string) bool {
	for _, set := range p.modelSets {
		if len(set) == 0 {
			continue
		}
		ok := false
		for _, g := range set {
			if m, err := path.Match(g, model); err == nil && m {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// ModelsRestricted reports whether the tenant's or the key's allow-list
// names models (a request must then name one of them: a request without a
// model, such as a Responses API call whose stored prompt picks the model,
// is refused).
func (p *Principal) ModelsRestricted() bool {
	for _, set := range p.modelSets {
		if len(set) > 0 {
			return true
		}
	}
	return false
}

// GrantModels returns the model allow-list that a key created or rotated
// by p may carry when want is asked for, and false when want would admit a
// model that p's own key does not: a caller never grants more than it
// holds. A caller whose key narrows nothing grants want as it is (the
// tenant's allow-list still applies to the new key); otherwise an empty
// want is filled with the caller's own list, and each entry must be one of
// the caller's own patterns or a plain model name (no glob characters)
// that the caller may use.
func (p *Principal) GrantModels(want []string) ([]string, bool) {
	if len(p.keyModels) == 0 {
		return want, true
	}
	if len(want) == 0 {
		return append([]string(nil), p.keyModels...), true
	}
	for _, m := range want {
		if slices.Contains(p.keyModels, m) {
			continue
		}
		if strings.ContainsAny(m, `*?[\`) || !p.ModelAllowed(m) {
			return nil, false
		}
	}
	return want, true
}

// EngineIdentity returns a fresh copy of the identity for tx.Identity.
func (p *Principal) EngineIdentity() *engine.Identity {
	id := p.Identity
	return &id
}

// Service authenticates requests and manages keys. New has no side
// effects; Start runs the background loops (generation poll, last-used
// flush) and Close stops them. Authenticate works without Start (then
// only the cache TTL bounds staleness).
type Service struct {
	cfg    Config
	store  Store
	hasher *Hasher
	log    *slog.Logger
	now    func() time.Time

	gen     atomic.Int64
	keys    *ttlCache[*keyEntry]
	tenants *ttlCache[*Tenant]
	lock    *lockout
	jwt     *jwtVerifier
	mtls    *mtlsMapper

	usedMu sync.Mutex
	used   map[string]time.Time

	graced    atomic.Uint64 // authentications served from the cache past its ttl (store down)
	downUntil atomic.Int64  // unix nanos: the store failed; lookups use the grace cache first

	stop    chan struct{}
	done    sync.WaitGroup
	started atomic.Bool
	closed  atomic.Bool
}

type keyEntry struct {
	found bool
	key   Key
	p     *Principal
}

// NewService builds the service. pepper is the key pepper (LoadPepper).
func NewService(cfg Config, st Store, pepper []byte, log *slog.Logger) (*Service, error) {
	if st == nil {
		return nil, errors.New("identity: no store")
	}
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("identity: config: %w", err)
	}
	h, err := NewHasher(pepper)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	jv, err := newJWTVerifier(cfg)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:     cfg,
		store:   st,
		hasher:  h,
		log:     log,
		now:     time.Now,
		keys:    newTTLCache[*keyEntry](cfg.CacheSize, cfg.CacheTTL),
		tenants: newTTLCache[*Tenant](1024, cfg.CacheTTL),
		lock:    newLockout(cfg.Lockout),
		jwt:     jv,
		mtls:    newMTLSMapper(cfg.MTLS),
		used:    make(map[string]time.Time),
		stop:    make(chan struct{}),
	}
	return s, nil
}

// Config returns the defaulted configuration.
func (s *Service) Config() Config { return s.cfg }

// Store returns the store the service uses.
func (s *Service) Store() Store { return s.store }

// RequireAuth reports whether requests without credentials are rejected.
func (s *Service) RequireAuth() bool { return *s.cfg.RequireAuth }

// HashKey returns the stored form of a key (HMAC-SHA256 with the pepper).
func (s *Service) HashKey(key string) []byte { return s.hasher.Hash(key) }

// Start reads the current generation and starts the background loops.
func (s *Service) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return nil
	}
	if g, err := s.store.IdentityGeneration(ctx); err == nil {
		s.gen.Store(g)
	} else {
		s.log.Warn("identity: reading identity generation", "err", err)
	}
	s.done.Add(1)
	go s.loop()
	return nil
}

// Close stops the background loops and writes pending last-used times.
func (s *Service) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(s.stop)
	s.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.flushUsed(ctx)
}

func (s *Service) loop() {
	defer s.done.Done()
	poll := time.NewTicker(s.cfg.GenerationPoll)
	defer poll.Stop()
	flush := time.NewTicker(s.cfg.LastUsedFlush)
	defer flush.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-poll.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.GenerationPoll+time.Second)
			s.refreshGeneration(ctx)
			cancel()
		case <-flush.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.flushUsed(ctx); err != nil {
				s.log.Warn("identity: writing last-used times", "err", err)
			}
			cancel()
		}
	}
}

// refreshGeneration reads the store's identity generation; a change makes
// every cached entry stale.
func (s *Service) refreshGeneration(ctx context.Context) {
	g, err := s.store.IdentityGeneration(ctx)
	if err != nil {
		s.log.Warn("identity: reading identity generation", "err", err)
		return
	}
	if s.gen.Swap(g) != g {
		s.log.Debug("identity: generation changed, cache dropped", "generation", g)
	}
}

// Invalidate drops every cached identity on this replica at once.
func (s *Service) Invalidate(ctx context.Context) {
	s.keys.purge()
	s.tenants.purge()
	s.refreshGeneration(ctx)
}

func (s *Service) touch(id string, at time.Time) {
	s.usedMu.Lock()
	if len(s.used) < 100000 {
		s.used[id] = at
	}
	s.usedMu.Unlock()
}

func (s *Service) flushUsed(ctx context.Context) error {
	s.usedMu.Lock()
	if len(s.used) == 0 {
		s.usedMu.Unlock()
		return nil
	}
	batch := s.used
	s.used = make(map[string]time.Time, len(batch))
	s.usedMu.Unlock()
	return s.store.TouchKeys(ctx, batch)
}

// Authenticate verifies the request's credentials: an API key
// ("Authorization: Bearer rk_…", "x-api-key: rk_…", "x-goog-api-key:
// rk_…" or "api-key: rk_…"; several must agree), otherwise a Bearer
// JWT, otherwise a verified client certificate. Failures are counted per
// client IP; once an IP reached lockout.max_failures, its failed attempts
// are answered *LockedOutError (429) after a short pause, for
// lockout.duration. Only failures are throttled: valid credentials from a
// locked-out address still pass, so ten bad keys sent from an address many
// clients share (a NAT) lock nobody out.
func (s *Service) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	now := s.now()
	p, err := s.authenticate(ctx, c, now)
	if !errors.Is(err, ErrInvalidCredentials) {
		return p, err
	}
	if lerr := s.failed(ctx, c.ClientIP, now); lerr != nil {
		return nil, lerr
	}
	return p, err
}

// failed counts one failed authentication from ip: while ip is throttled
// it pauses and returns *LockedOutError, else it counts the failure (and
// returns nil).
func (s *Service) failed(ctx context.Context, ip string, now time.Time) error {
	if d := s.lock.locked(ip, now); d > 0 {
		s.lock.slowDown(ctx)
		return &LockedOutError{RetryAfter: d}
	}
	if s.lock.fail(ip, now) {
		s.log.Warn("identity: failed authentications from a client are now throttled", "client_ip", ip)
	}
	return nil
}

func (s *Service) authenticate(ctx context.Context, c Credentials, now time.Time) (*Principal, error) {
	bearer, hasBearer, err := bearerToken(c.Header)
	if err != nil {
		return nil, err
	}
	apiKey := ""
	// Gemini clients send their key as x-goog-api-key (the gateway moves
	// a ?key= parameter there too).
	// Azure OpenAI clients send theirs as api-key.
	for _, h := range [...]string{"X-Api-Key", "X-Goog-Api-Key", "Api-Key"} {
		vals := c.Header.Values(h)
		if len(vals) > 1 {
			return nil, fmt.Errorf("%w: several %s headers", ErrInvalidCredentials, h)
		}
		if len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
			continue
		}
		v := strings.TrimSpace(vals[0])
		if apiKey != "" && apiKey != v {
			return nil, fmt.Errorf("%w: conflicting API key headers", ErrInvalidCredentials)
		}
		apiKey = v
	}
	switch {
	case apiKey != "" && hasBearer && apiKey != bearer:
		return nil, fmt.Errorf("%w: conflicting Authorization and API key header", ErrInvalidCredentials)
	case apiKey != "":
		if !strings.HasPrefix(apiKey, KeyPrefix) {
			return nil, fmt.Errorf("%w: not a rampart key", ErrInvalidCredentials)
		}
		return s.authKey(ctx, apiKey, now)
	case hasBearer && strings.HasPrefix(bearer, KeyPrefix):
		return s.authKey(ctx, bearer, now)
	case hasBearer:
		return s.authJWT(ctx, bearer, now)
	}
	if c.TLS != nil && len(c.TLS.VerifiedChains) > 0 && s.mtls.enabled() {
		return s.authMTLS(ctx, c.TLS, now)
	}
	return nil, ErrNoCredentials
}

// bearerToken extracts a Bearer token; a malformed Authorization header is
// invalid credentials.
func bearerToken(h http.Header) (string, bool, error) {
	vals := h.Values("Authorization")
	if len(vals) == 0 {
		return "", false, nil
	}
	if len(vals) > 1 {
		return "", false, fmt.Errorf("%w: several Authorization headers", ErrInvalidCredentials)
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false, fmt.Errorf("%w: Authorization is not a Bearer token", ErrInvalidCredentials)
	}
	return tok, true, nil
}

func (s *Service) authKey(ctx context.Context, key string, now time.Time) (*Principal, error) {
	if !LooksLikeKey(key) {
		return nil, fmt.Errorf("%w: malformed key %s", ErrInvalidCredentials, MaskKey(key))
	}
	sum := s.hasher.Hash(key)
	ck := string(sum)
	gen := s.gen.Load()
	e, ok := s.keys.get(ck, now, gen)
	if !ok && s.storeDown(now) {
		// The store failed a moment ago: a recently verified key is served
		// from the cache without waiting out another store timeout.
		if old, found := s.keys.stale(ck, now, gen, s.cfg.CacheGrace); found && old.found {
			s.graced.Add(1)
			e, ok = old, true
		}
	}
	if !ok {
		var err error
		e, err = s.loadKey(ctx, sum, now)
		switch {
		case errors.Is(err, ErrUnavailable):
			old, ok := s.keys.stale(ck, now, gen, s.cfg.CacheGrace)
			if !ok || !old.found {
				return nil, err
			}
			s.graced.Add(1)
			e = old // the store is unreachable: the recently verified entry, not refreshed
		case err != nil:
			return nil, err
		default:
			s.keys.put(ck, e, now, gen)
		}
	}
	if !e.found || subtle.ConstantTimeCompare(e.key.Hash, sum) != 1 {
		return nil, fmt.Errorf("%w: unknown key %s", ErrInvalidCredentials, MaskKey(key))
	}
	if !e.key.Usable(now) {
		return nil, fmt.Errorf("%w: key %s is revoked or expired", ErrInvalidCredentials, e.key.ID)
	}
	s.touch(e.key.ID, now)
	return e.p, nil
}

func (s *Service) loadKey(ctx context.Context, sum []byte, now time.Time) (*keyEntry, error) {
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	k, err := s.store.KeyByHash(sctx, sum)
	cancel()
	if errors.Is(err, ErrNotFound) {
		return &keyEntry{}, nil
	}
	if err != nil {
		s.log.Error("identity: key lookup failed", "err", err)
		s.markDown(now)
		return nil, ErrUnavailable
	}
	p := &Principal{Source: "key"}
	p.Tenant, p.KeyID, p.Subject, p.Role = k.Tenant, k.ID, k.Name, k.Role
	p.Policy, p.Models = k.Policy, k.Models
	p.ExpiresAt, p.Replaced = k.ExpiresAt, k.ReplacedBy != ""
	if k.Tenant != GlobalTenant {
		t, err := s.tenant(ctx, k.Tenant, now)
		if errors.Is(err, ErrNotFound) {
			return &keyEntry{}, nil // tenant deleted: its keys no longer work
		}
		if err != nil {
			return nil, err
		}
		applyTenant(p, t, k.Models, k.Limits)
	} else {
		p.modelSets = [][]string{k.Models}
		p.keyModels = k.Models
		p.Limits = copyLimits(k.Limits, nil)
	}
	return &keyEntry{found: true, key: k, p: p}, nil
}

func applyTenant(p *Principal, t *Tenant, keyModels []string, keyLimits map[string]int64) {
	if p.Policy == "" {
		p.Policy = t.Policy
	}
	if len(p.Models) == 0 {
		p.Models = t.Models
	}
	p.modelSets = [][]string{t.Models, keyModels}
	p.keyModels = keyModels
	p.Limits = copyLimits(t.Limits, keyLimits)
	// A tenant's spend budgets hold for the tenant as a whole, not for
	// each key: they go on as tenant_budget_usd_* (layers/ratelimit).
	for _, name := range TenantWideLimits {
		if v := t.Limits[name]; v > 0 {
			p.Limits["tenant_"+name] = v
			if _, own := keyLimits[name]; !own {
				delete(p.Limits, name)
			}
		}
	}
}

// TenantWideLimits are the limits that, set on a tenant, limit the tenant
// as a whole (as tenant_<name> in Principal.Limits) instead of being each
// key's default: the USD spend budgets, in micro-USD.
var TenantWideLimits = []string{"budget_usd_day", "budget_usd_month"}

func copyLimits(base, over map[string]int64) map[string]int64 {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := make(map[string]int64, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// tenant returns a tenant through the cache (ErrNotFound, ErrUnavailable).
func (s *Service) tenant(ctx context.Context, id string, now time.Time) (*Tenant, error) {
	gen := s.gen.Load()
	if t, ok := s.tenants.get(id, now, gen); ok {
		if t == nil {
			return nil, ErrNotFound
		}
		return t, nil
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StoreTimeout)
	t, err := s.store.GetTenant(sctx, id)
	cancel()
	if errors.Is(err, ErrNotFound) {
		s.tenants.put(id, nil, now, gen)
		return nil, ErrNotFound
	}
	if err != nil {
		s.log.Error("identity: tenant lookup failed", "err", err)
		if old, ok := s.tenants.stale(id, now, gen, s.cfg.CacheGrace); ok && old != nil {
			s.graced.Add(1)
			return old, nil
		}
		return nil, ErrUnavailable
	}
	s.tenants.put(id, &t, now, gen)
	return &t, nil
}

// principalFor builds a principal for an externally asserted identity
// (JWT, mTLS): the tenant must exist (or be "*").
func (s *Service) principalFor(ctx context.Context, source, tenant, role, subject string, now time.Time) (*Principal, error) {
	if !ValidRole(role) {
		return nil, fmt.Errorf("%w: unknown role", ErrInvalidCredentials)
	}
	p := &Principal{Source: source}
	p.Tenant, p.Role, p.Subject = tenant, role, subject
	if tenant == GlobalTenant {
		return p, nil
	}
	t, err := s.tenant(ctx, tenant, now)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: unknown tenant", ErrInvalidCredentials)
	}
	if err != nil {
		return nil, err
	}
	applyTenant(p, t, nil, nil)
	return p, nil
}

// storeDownFor is how long after a failed store lookup cached keys are
// served without trying the store first.
const storeDownFor = time.Second

func (s *Service) markDown(now time.Time) { s.downUntil.Store(now.Add(storeDownFor).UnixNano()) }

func (s *Service) storeDown(now time.Time) bool { return now.UnixNano() < s.downUntil.Load() }

// Graced is the number of authentications served from the cache past its
// ttl because the store could not be reached (cache_grace).
func (s *Service) Graced() uint64 { return s.graced.Load() }

// SetClock replaces the service's clock (tests and simulations only; call
// before the service is used).
func (s *Service) SetClock(now func() time.Time) { s.now = now }
