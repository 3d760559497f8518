package blocklist

import (
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
	"github.com/rampart-ai/rampart/store"
)

// Shared services (engine.Host.Services) the layer uses.
var (
	// StoreKey is the store the blocks live in; the gateway provides its
	// store under it.
	StoreKey = engine.NewKey[store.BlockStore]("blocklist.store")
	// CacheKey is the block cache the gateway shares between the layer,
	// the admin API and the incident responder. Without it, the layer
	// builds a cache of its own over StoreKey.
	CacheKey = engine.NewKey[*Cache]("blocklist.cache")
	// throttleKey holds the throttle counters. The first layer
	// provisioned creates them; a layer provisioned later over the same
	// pool (after a hot reload) reuses them, so a reload does not give a
	// throttled caller a fresh allowance.
	throttleKey = engine.NewKey[*limits.Memory]("blocklist.throttle")
)

// provisionThrottle takes the throttle counters from svc or creates them
// there (the layer owns them when there are no services to hold them).
func (l *Layer) provisionThrottle(svc *engine.Services) error {
	m, shared, err := engine.Acquire(svc, throttleKey, func() (*limits.Memory, error) {
		return limits.NewMemory(limits.MemoryOptions{MaxEntries: maxThrottleEntries, Now: l.now}), nil
	})
	if err != nil {
		return err
	}
	l.throttle, l.ownThrottle = m, !shared
	return nil
}
