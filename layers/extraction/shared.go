package extraction

import (
	"hash/maphash"
	"io"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
)

// ServiceState is the key under engine.Host.Services of the per-identity
// state (windows, levels and their TTLs, the tightened-rate limiter). The
// first layer provisioned creates it there; a layer provisioned later over
// the same services (the next configuration after a hot reload) reuses it,
// so a reload neither forgets a campaign in progress nor lifts a block or
// a tightened rate. The host owns and closes it.
const ServiceState = "extraction.state"

// sharedState is what survives a reload.
type sharedState struct {
	tr            *tracker
	limiter       *limits.Memory
	seed          maphash.Seed
	maxIdentities int
}

// Close releases the limiter.
func (s *sharedState) Close() error { return s.limiter.Close() }

var _ io.Closer = (*sharedState)(nil)

// provisionState takes the state from h.Services or creates it (and
// publishes it there when h has services; otherwise the layer owns it).
func (l *Layer) provisionState(h *engine.Host) {
	if h != nil && h.Services != nil {
		if s, ok := h.Services[ServiceState].(*sharedState); ok {
			if s.maxIdentities != l.cfg.MaxIdentities && h.Logger != nil {
				h.Logger.Warn("extraction: max_identities changed; the running state keeps its size until a restart",
					"running", s.maxIdentities, "configured", l.cfg.MaxIdentities)
			}
			l.tr, l.limiter, l.seed = s.tr, s.limiter, s.seed
			return
		}
	}
	s := &sharedState{tr: newTracker(l.cfg.MaxIdentities),
		limiter:       limits.NewMemory(limits.MemoryOptions{MaxEntries: l.cfg.MaxIdentities, Now: l.now}),
		seed:          maphash.MakeSeed(),
		maxIdentities: l.cfg.MaxIdentities}
	l.tr, l.limiter, l.seed = s.tr, s.limiter, s.seed
	if h != nil && h.Services != nil {
		h.Services[ServiceState] = s
		return
	}
	l.own = s
}
