package gateway

import (
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/engine"
)

// DefaultDrainTimeout bounds how long a replaced configuration waits for
// its last request or stream before its layers are closed anyway.
const DefaultDrainTimeout = 15 * time.Minute

// ipAllower is a layer of the chain that decides by client address alone
// (layers/network's IP lists), so the gateway can apply it to the routes
// the engine does not serve.
type ipAllower interface {
	engine.Layer
	Allowed(clientIP string) bool
}

// generation is everything built from one policy: the provisioned layer
// chain, the engine, upstreams, routes and the /v1/scan scanner. Requests
// pin the generation they start on; a retired generation is closed after
// its last request ends.
type generation struct {
	id      uint64
	cfg     *config.Config
	eng     *engine.Engine
	mux     map[string]*entry
	scanner *scan.Scanner
	demo    bool
	closers []io.Closer           // the chain's layers and upstream transports
	reg     *generationCollectors // metrics the layers registered (nil WithLayers)
	svc     *engine.Services      // the layers' references to shared services (nil WithLayers)
	// ipGuard is the enforcing network layer, which the gateway also
	// applies to the routes the engine does not serve (admin, metrics,
	// scan); nil when that layer is off or in monitor mode.
	ipGuard ipAllower
	// mcp fronts the configured MCP servers at /mcp/<name> (nil: none).
	mcp http.Handler

	// refs counts pinned requests; retiredBit is set once the generation
	// is replaced, after which tryAcquire fails.
	refs      atomic.Int64
	drained   chan struct{}
	drainOnce sync.Once
}

const retiredBit = int64(1) << 62

// tryAcquire pins the generation for one request; false once it is retired.
func (gen *generation) tryAcquire() bool {
	if gen.refs.Add(1)&retiredBit != 0 {
		gen.release()
		return false
	}
	return true
}

// release unpins one request; the last one after retire signals drained.
func (gen *generation) release() {
	if gen.refs.Add(-1) == retiredBit {
		gen.drainOnce.Do(func() { close(gen.drained) })
	}
}

// retire stops new requests from pinning gen; drained closes when the
// requests already pinned have ended.
func (gen *generation) retire() {
	if gen.refs.Add(retiredBit) == retiredBit {
		gen.drainOnce.Do(func() { close(gen.drained) })
	}
}

// inFlight is the number of requests pinned to gen.
func (gen *generation) inFlight() int64 { return gen.refs.Load() &^ retiredBit }

// drain waits for a retired generation's requests (at most g.drainTO) and
// then closes its layers and releases its metrics.
func (g *Gateway) drain(gen *generation) error {
	t := time.NewTimer(g.drainTO)
	defer t.Stop()
	select {
	case <-gen.drained:
	case <-t.C:
		g.log.Warn("config: replaced configuration still has requests in flight after the drain timeout; closing its layers now",
			"generation", gen.id, "in_flight", gen.inFlight(), "timeout", g.drainTO.String())
	}
	// The layers first, then their references to shared services: a
	// service no newer generation uses is closed here.
	err := errors.Join(closeAll(gen.closers), gen.svc.Release())
	if gen.reg != nil {
		gen.reg.release()
	}
	return err
}

// sharedCollectors registers the layers' Prometheus collectors on the
// gateway's registry across generations. Layers register their collectors
// at Provision, so a reload registers them again: a collector with the same
// descriptors is found already registered and reused (layers keep counting
// into the same series), a function collector is replaced by the newest
// generation's (it reads that generation's state), and a collector is
// unregistered when the last generation that registered or reused it is
// closed (so a series whose labels changed does not linger).
type sharedCollectors struct {
	reg     *prometheus.Registry
	mu      sync.Mutex
	held    map[string]*heldCollector // by collectorKey
	anonymN uint64
}

type heldCollector struct {
	c    prometheus.Collector
	gens int // generations holding it
}

func newSharedCollectors(reg *prometheus.Registry) *sharedCollectors {
	return &sharedCollectors{reg: reg, held: map[string]*heldCollector{}}
}

// forGeneration returns the prometheus.Registerer handed to one
// generation's layers.
func (s *sharedCollectors) forGeneration() *generationCollectors {
	return &generationCollectors{s: s, keys: map[string]bool{}}
}

// generationCollectors is one generation's view of sharedCollectors.
type generationCollectors struct {
	s        *sharedCollectors
	mu       sync.Mutex
	keys     map[string]bool
	released bool
}

var _ prometheus.Registerer = (*generationCollectors)(nil)

// collectorKey names a collector by its sorted descriptors (name, help,
// constant and variable labels): two collectors with the same key are the
// same series to the registry.
func collectorKey(c prometheus.Collector) string {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	var descs []string
	for d := range ch {
		descs = append(descs, d.String())
	}
	sort.Strings(descs)
	return strings.Join(descs, "\n")
}

// Register registers c, or finds it already registered by an earlier
// generation: then the error is prometheus.AlreadyRegisteredError with the
// existing collector, which the layer reuses; except for a function
// collector (GaugeFunc, CounterFunc), which replaces the earlier one, as it
// reads this generation's state. Either way the generation holds it until
// it is released.
func (r *generationCollectors) Register(c prometheus.Collector) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.released {
		return errors.New("gateway: metrics registered after the configuration was replaced")
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		key := collectorKey(c)
		if key == "" { // an unchecked collector: no descriptors to match
			s.anonymN++
			key = "unchecked#" + strconv.FormatUint(s.anonymN, 10)
		}
		s.held[key] = &heldCollector{c: c}
		r.hold(key)
	case errors.As(err, &are):
		// Reuse is only shared with other generations; a collector the
		// gateway itself registered (engine metrics, audit) is not the
		// layer's to hold.
		key := collectorKey(are.ExistingCollector)
		h := s.held[key]
		if h == nil {
			break
		}
		if isFuncCollector(c) && isFuncCollector(h.c) && s.reg.Unregister(h.c) {
			// A GaugeFunc or CounterFunc reads the state of the layer
			// that made it: the newest generation's is the one in force.
			if err := s.reg.Register(c); err != nil {
				_ = s.reg.Register(h.c)
				return err
			}
			h.c = c
			r.hold(key)
			return nil
		}
		r.hold(key)
	}
	return err
}

// isFuncCollector reports whether c is a single metric computed by a
// function (prometheus.NewGaugeFunc, NewCounterFunc) rather than one that
// holds its own value (counters, gauges, histograms and summaries, which a
// reloaded layer keeps counting into).
func isFuncCollector(c prometheus.Collector) bool {
	switch c.(type) {
	case prometheus.Counter, prometheus.Gauge, prometheus.Histogram, prometheus.Summary:
		return false
	case prometheus.Metric:
		return true
	}
	return false
}

// hold records that the generation uses key (once). s.mu is held.
func (r *generationCollectors) hold(key string) {
	if !r.keys[key] {
		r.keys[key] = true
		r.s.held[key].gens++
	}
}

// MustRegister implements prometheus.Registerer.
func (r *generationCollectors) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Unregister drops the generation's hold on c; c is unregistered when no
// generation holds it any more. Collectors the generation does not hold are
// left alone.
func (r *generationCollectors) Unregister(c prometheus.Collector) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := collectorKey(c)
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if !r.keys[key] {
		return false
	}
	delete(r.keys, key)
	return r.s.drop(key)
}

// release drops every hold of the generation (when it is closed, or when
// building it failed).
func (r *generationCollectors) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.released {
		return
	}
	r.released = true
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	for key := range r.keys {
		r.s.drop(key)
	}
	r.keys = nil
}

// drop releases one hold on key; s.mu is held.
func (s *sharedCollectors) drop(key string) bool {
	h := s.held[key]
	if h == nil {
		return false
	}
	if h.gens--; h.gens > 0 {
		return true
	}
	delete(s.held, key)
	return s.reg.Unregister(h.c)
}
