package extraction

import (
	"hash/maphash"
	"io"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
)

// stateKey is the shared service of the per-identity state (windows,
// levels and their TTLs, the tightened-rate limiter). The first layer
// provisioned creates it; a layer provisioned later over the same pool
// (the next configuration after a hot reload) reuses it, so a reload
// neither forgets a campaign in progress nor lifts a block or a tightened
// rate. The pool closes it when no configuration uses it any more.
var stateKey = engine.NewKey[*sharedState]("extraction.state")

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

// provisionState takes the state from h.Services or creates it there
// (without services, the layer owns it).
func (l *Layer) provisionState(h *engine.Host) error {
	var svc *engine.Services
	if h != nil {
		svc = h.Services
	}
	var created bool
	s, shared, err := engine.Acquire(svc, stateKey, func() (*sharedState, error) {
		created = true
		return &sharedState{tr: newTracker(l.cfg.MaxIdentities),
			limiter:       limits.NewMemory(limits.MemoryOptions{MaxEntries: l.cfg.MaxIdentities, Now: l.now}),
			seed:          maphash.MakeSeed(),
			maxIdentities: l.cfg.MaxIdentities}, nil
	})
	if err != nil {
		return err
	}
	if !created && s.maxIdentities != l.cfg.MaxIdentities && h.Logger != nil {
		h.Logger.Warn("extraction: max_identities changed; the running state keeps its size until a restart",
			"running", s.maxIdentities, "configured", l.cfg.MaxIdentities)
	}
	l.tr, l.limiter, l.seed = s.tr, s.limiter, s.seed
	if !shared {
		l.own = s
	}
	return nil
}
