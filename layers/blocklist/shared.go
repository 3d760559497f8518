package blocklist

import (
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
)

// ServiceThrottle is the key under engine.Host.Services of the throttle
// counters. The first layer provisioned creates them there; a layer
// provisioned later over the same services (after a hot reload) reuses
// them, so a reload does not give a throttled caller a fresh allowance.
// The host owns and closes them.
const ServiceThrottle = "blocklist.throttle"

// provisionThrottle takes the throttle counters from h.Services or creates
// them (the layer owns them when there is no host to hold them).
func (l *Layer) provisionThrottle(h *engine.Host) {
	if h != nil && h.Services != nil {
		if m, ok := h.Services[ServiceThrottle].(*limits.Memory); ok {
			l.throttle = m
			return
		}
	}
	l.throttle = limits.NewMemory(limits.MemoryOptions{MaxEntries: maxThrottleEntries, Now: l.now})
	if h != nil && h.Services != nil {
		h.Services[ServiceThrottle] = l.throttle
		return
	}
	l.ownThrottle = true
}
