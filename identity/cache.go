package identity

import (
	"context"
	"net/netip"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// ttlCache is a bounded LRU whose entries are valid for ttl and only for
// the identity generation they were read under. A generation change (seen
// by the poller) makes every older entry stale at once without a purge.
type ttlCache[V any] struct {
	ttl time.Duration
	lru *lru.Cache[string, ttlEntry[V]]
}

type ttlEntry[V any] struct {
	v   V
	at  time.Time
	gen int64
}

func newTTLCache[V any](size int, ttl time.Duration) *ttlCache[V] {
	c, err := lru.New[string, ttlEntry[V]](size)
	if err != nil { // only for size <= 0, which config validation rejects
		c, _ = lru.New[string, ttlEntry[V]](1)
	}
	return &ttlCache[V]{ttl: ttl, lru: c}
}

func (c *ttlCache[V]) get(k string, now time.Time, gen int64) (V, bool) {
	e, ok := c.lru.Get(k)
	if !ok || e.gen != gen || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// stale returns an entry past its ttl but read at most grace ago under
// generation gen (no revocation seen since), for use while the store is
// unreachable.
func (c *ttlCache[V]) stale(k string, now time.Time, gen int64, grace time.Duration) (V, bool) {
	e, ok := c.lru.Peek(k)
	if !ok || grace <= 0 || e.gen != gen || now.Sub(e.at) >= grace || now.Before(e.at) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(k string, v V, now time.Time, gen int64) {
	c.lru.Add(k, ttlEntry[V]{v: v, at: now, gen: gen})
}

func (c *ttlCache[V]) purge() { c.lru.Purge() }

// lockout counts failed authentications per client IP.
type lockout struct {
	cfg LockoutConfig
	mu  sync.Mutex
	ips *lru.Cache[string, *ipRecord]
}

type ipRecord struct {
	failures    int
	windowStart time.Time
	lockedUntil time.Time
}

func newLockout(cfg LockoutConfig) *lockout {
	c, err := lru.New[string, *ipRecord](cfg.MaxTracked)
	if err != nil {
		c, _ = lru.New[string, *ipRecord](1)
	}
	return &lockout{cfg: cfg, ips: c}
}

func (l *lockout) enabled() bool { return l.cfg.MaxFailures > 0 }

// lockoutPause is how long a failed attempt from a locked-out address
// waits before its 429: it slows down guessing without holding a valid
// caller (who is never paused) and is cut short when the client leaves.
const lockoutPause = 250 * time.Millisecond

func (l *lockout) slowDown(ctx context.Context) {
	t := time.NewTimer(lockoutPause)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// lockoutKey is what failures are counted by: the address, or for IPv6
// its /64 (one subscriber's prefix: an attacker who holds one would
// otherwise get a fresh count with each of its 2^64 addresses).
func lockoutKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if !a.Is6() {
		return a.String()
	}
	if p, err := a.WithZone("").Prefix(64); err == nil {
		return p.String()
	}
	return ip
}

// locked returns how long ip remains locked out (0: not locked).
func (l *lockout) locked(ip string, now time.Time) time.Duration {
	if !l.enabled() || ip == "" {
		return 0
	}
	ip = lockoutKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.ips.Peek(ip)
	if !ok || !now.Before(r.lockedUntil) {
		return 0
	}
	return r.lockedUntil.Sub(now)
}

// fail records one failed authentication from ip and reports whether the
// ip is now locked out.
func (l *lockout) fail(ip string, now time.Time) bool {
	if !l.enabled() || ip == "" {
		return false
	}
	ip = lockoutKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.ips.Get(ip)
	if !ok {
		r = &ipRecord{windowStart: now}
		l.ips.Add(ip, r)
	}
	if now.Sub(r.windowStart) >= l.cfg.Window {
		r.windowStart, r.failures = now, 0
	}
	r.failures++
	if r.failures >= l.cfg.MaxFailures {
		r.lockedUntil = now.Add(l.cfg.Duration)
		r.failures, r.windowStart = 0, now
		return true
	}
	return false
}
