package blocklist

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/store"
)

// storeTimeout bounds one store call of the refresher.
const storeTimeout = 5 * time.Second

// Cache is this replica's copy of the store's active blocks, indexed for
// constant-time lookups on the request path. A background refresher polls
// the store's blocks version every refresh interval and reloads when it
// moved, which is how a block added on one replica reaches every other.
// Cache also implements store.BlockStore: changes made through it are
// written to the store and applied locally at once.
//
// When the store cannot be reached, the cache keeps the blocks it has (and
// keeps expiring them on time), counts the failure and logs it.
type Cache struct {
	st  store.BlockStore
	log *slog.Logger
	now func() time.Time

	snap atomic.Pointer[snapshot]

	mu      sync.Mutex // serialises reloads (held across store calls)
	version int64
	loaded  bool
	pruneMu sync.Mutex // one in-memory prune at a time (never held across I/O)

	refreshErrors prometheus.Counter
	lastRefresh   prometheus.Gauge

	startOnce, closeOnce sync.Once
	stop, done           chan struct{}
	lastWarn             atomic.Int64
}

// CacheOption changes how NewCache builds a cache.
type CacheOption func(*Cache)

// WithCacheClock sets the cache's clock (tests).
func WithCacheClock(now func() time.Time) CacheOption { return func(c *Cache) { c.now = now } }

// NewCache returns an empty cache over st (no side effects; call Reload or
// Start). log may be nil.
func NewCache(st store.BlockStore, log *slog.Logger, opts ...CacheOption) *Cache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cache{st: st, log: log, now: time.Now, stop: make(chan struct{}), done: make(chan struct{}),
		refreshErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rampart_blocklist_refresh_errors_total",
			Help: "Block cache refreshes that failed (store unreachable); the last loaded blocks stay in force.",
		}),
		lastRefresh: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rampart_blocklist_last_refresh_timestamp_seconds",
			Help: "Unix time of the last successful check of the store's blocks.",
		}),
	}
	for _, o := range opts {
		o(c)
	}
	c.snap.Store(&snapshot{})
	return c
}

// Register exports the cache's metrics on reg (nil: nothing). Registering
// on a registry that already has them is not an error.
func (c *Cache) Register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	active := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "rampart_blocklist_active_blocks",
		Help: "Blocks and throttles this replica currently enforces.",
	}, func() float64 { return float64(len(c.snap.Load().blocks)) })
	for _, col := range []prometheus.Collector{c.refreshErrors, c.lastRefresh, active} {
		if err := reg.Register(col); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return err
		}
	}
	return nil
}

// Reload checks the store's blocks version and, when it moved since the
// last load (or nothing was loaded yet), loads the active blocks.
func (c *Cache) Reload(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.st.BlocksVersion(ctx)
	if err != nil {
		return err
	}
	if c.loaded && v == c.version {
		c.lastRefresh.SetToCurrentTime()
		return nil
	}
	now := c.now()
	list, err := c.st.ListBlocks(ctx, now)
	if err != nil {
		return err
	}
	c.snap.Store(build(list, now))
	c.version, c.loaded = v, true
	c.lastRefresh.SetToCurrentTime()
	return nil
}

// Start runs the refresher (every refresh) and the purger (every purge)
// until Close. Calling it again does nothing.
func (c *Cache) Start(refresh, purge time.Duration) {
	c.startOnce.Do(func() { go c.run(refresh, purge) })
}

func (c *Cache) run(refresh, purge time.Duration) {
	defer close(c.done)
	rt := time.NewTicker(refresh)
	defer rt.Stop()
	pt := time.NewTicker(purge)
	defer pt.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-rt.C:
			ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
			if err := c.Reload(ctx); err != nil {
				c.refreshErrors.Inc()
				c.warn("blocklist: cannot refresh blocks from the store; the last loaded blocks stay in force", err)
			}
			cancel()
		case <-pt.C:
			ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
			if n, err := c.st.PurgeExpiredBlocks(ctx, c.now()); err != nil {
				c.warn("blocklist: cannot purge expired blocks", err)
			} else if n > 0 {
				c.log.Info("blocklist: purged expired blocks", "count", n)
			}
			cancel()
		}
	}
}

// warn logs at most once a minute.
func (c *Cache) warn(msg string, err error) {
	now := time.Now().UnixNano()
	last := c.lastWarn.Load()
	if now-last >= int64(time.Minute) && c.lastWarn.CompareAndSwap(last, now) {
		c.log.Warn(msg, "error", err.Error())
	}
}

// Close stops the refresher (if started) and waits for it. It does not
// close the store.
func (c *Cache) Close() error {
	c.closeOnce.Do(func() {
		c.startOnce.Do(func() { close(c.done) }) // never started: nothing to wait for
		close(c.stop)
	})
	<-c.done
	return nil
}

// Len is the number of blocks in force now.
func (c *Cache) Len() int { return len(c.current(c.now()).blocks) }

// current returns the snapshot, first dropping expired blocks when the
// earliest expiry has passed (from memory; no store call). It never waits:
// while another goroutine rebuilds, it uses the current snapshot, which is
// at most that rebuild's duration stale.
func (c *Cache) current(now time.Time) *snapshot {
	s := c.snap.Load()
	if s.next.IsZero() || now.Before(s.next) {
		return s
	}
	if !c.pruneMu.TryLock() {
		return s
	}
	defer c.pruneMu.Unlock()
	s = c.snap.Load()
	if s.next.IsZero() || now.Before(s.next) {
		return s
	}
	ns := build(s.blocks, now)
	// A reload may have stored a newer snapshot meanwhile: keep that one.
	if !c.snap.CompareAndSwap(s, ns) {
		return c.snap.Load()
	}
	return ns
}

// Verdict is what the blocks say about one request.
type Verdict struct {
	// Block is the block that refuses the request (nil: not blocked).
	Block *store.Block
	// Throttles are the throttles that apply (key, user, address), the
	// strictest per target.
	Throttles [3]*store.Block
	// NThrottles is how many of Throttles are set.
	NThrottles int
}

// Lookup returns the verdict for a request from ip (invalid: no address
// known) with key id keyID and user (tenant, subject); empty strings
// match nothing. It costs two map lookups and two prefix-table lookups.
func (c *Cache) Lookup(ip netip.Addr, keyID, tenant, subject string) Verdict {
	var v Verdict
	s := c.current(c.now())
	if len(s.blocks) == 0 {
		return v
	}
	add := func(t target) {
		if t.block != nil && v.Block == nil {
			v.Block = t.block
		}
		if t.throttle != nil {
			v.Throttles[v.NThrottles] = t.throttle
			v.NThrottles++
		}
	}
	if keyID != "" {
		add(s.keys[keyID])
	}
	if subject != "" {
		add(s.users[userKey{tenant, subject}])
	}
	if ip.IsValid() {
		ip = ip.Unmap().WithZone("")
		var t target
		t.block, _ = s.ipBlock.Lookup(ip)
		t.throttle, _ = s.ipThrottle.Lookup(ip)
		add(t)
	}
	return v
}

// snapshot is an immutable index of the blocks active when it was built.
type snapshot struct {
	blocks     []store.Block
	keys       map[string]target
	users      map[userKey]target
	ipBlock    bart.Table[*store.Block] // any match blocks
	ipThrottle bart.Table[*store.Block] // the most specific throttle applies
	next       time.Time                // earliest expiry; zero when empty
}

type userKey struct{ tenant, subject string }

// target is what applies to one key, user or prefix: the block that
// expires last, and the throttle with the lowest rate.
type target struct {
	block, throttle *store.Block
}

func (t target) with(b *store.Block) target {
	switch b.Action {
	case store.ActionBlock:
		if t.block == nil || b.ExpiresAt.After(t.block.ExpiresAt) {
			t.block = b
		}
	case store.ActionThrottle:
		if t.throttle == nil || b.RPM < t.throttle.RPM {
			t.throttle = b
		}
	}
	return t
}

// build indexes the blocks of list active at now. Blocks that do not
// parse (a row written by something other than rampart) are skipped.
func build(list []store.Block, now time.Time) *snapshot {
	s := &snapshot{keys: map[string]target{}, users: map[userKey]target{}}
	for _, b := range list {
		if b.Active(now) {
			s.blocks = append(s.blocks, b)
		}
	}
	for i := range s.blocks {
		b := &s.blocks[i]
		switch b.Kind {
		case store.BlockKey:
			s.keys[b.Value] = s.keys[b.Value].with(b)
		case store.BlockUser:
			k := userKey{b.Tenant, b.Value}
			s.users[k] = s.users[k].with(b)
		case store.BlockIP, store.BlockCIDR:
			p, ok := prefixOf(b)
			if !ok {
				continue
			}
			tbl := &s.ipBlock
			if b.Action == store.ActionThrottle {
				tbl = &s.ipThrottle
			}
			old, _ := tbl.Get(p)
			var t target
			if old != nil {
				t = t.with(old)
			}
			t = t.with(b)
			if b.Action == store.ActionThrottle {
				tbl.Insert(p, t.throttle)
			} else {
				tbl.Insert(p, t.block)
			}
		default:
			continue
		}
		if s.next.IsZero() || b.ExpiresAt.Before(s.next) {
			s.next = b.ExpiresAt
		}
	}
	return s
}

// prefixOf returns the network a kind ip or cidr block covers.
func prefixOf(b *store.Block) (netip.Prefix, bool) {
	if b.Kind == store.BlockIP {
		a, err := netip.ParseAddr(b.Value)
		if err != nil {
			return netip.Prefix{}, false
		}
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(b.Value)
	if err != nil {
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

// AddBlock stores b and applies it on this replica at once.
func (c *Cache) AddBlock(ctx context.Context, b store.Block) (store.Block, error) {
	out, err := c.st.AddBlock(ctx, b)
	if err != nil {
		return out, err
	}
	c.reloadAfterChange(ctx)
	return out, nil
}

// RemoveBlock deletes a block and lifts it on this replica at once.
func (c *Cache) RemoveBlock(ctx context.Context, id string) error {
	if err := c.st.RemoveBlock(ctx, id); err != nil {
		return err
	}
	c.reloadAfterChange(ctx)
	return nil
}

func (c *Cache) reloadAfterChange(ctx context.Context) {
	if err := c.Reload(ctx); err != nil {
		c.refreshErrors.Inc()
		c.warn("blocklist: block stored but the local cache could not reload; the refresher retries", err)
	}
}

// ListBlocks lists the store's active blocks.
func (c *Cache) ListBlocks(ctx context.Context, now time.Time) ([]store.Block, error) {
	return c.st.ListBlocks(ctx, now)
}

// BlocksVersion returns the store's blocks version.
func (c *Cache) BlocksVersion(ctx context.Context) (int64, error) { return c.st.BlocksVersion(ctx) }

// PurgeExpiredBlocks purges the store's expired blocks.
func (c *Cache) PurgeExpiredBlocks(ctx context.Context, now time.Time) (int64, error) {
	return c.st.PurgeExpiredBlocks(ctx, now)
}

var _ store.BlockStore = (*Cache)(nil)
