package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rampart-ai/rampart/engine"
)

// Buckets.
var (
	// LayerBuckets suit layer calls: 1µs to 100ms.
	LayerBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
		1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1}
	// RequestBuckets suit whole requests and upstream calls: 5ms to 2min.
	RequestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
)

// MaxSeries caps distinct label sets per metric family fed from request
// data (route, upstream): beyond it, new values are counted under
// OtherLabel, so that odd paths cannot blow up cardinality.
const (
	MaxSeries  = 1000
	OtherLabel = "other"
)

// Metrics is rampart's core metric set. It implements engine.Observer and
// is safe for concurrent use.
type Metrics struct {
	reg prometheus.Registerer

	requests    *prometheus.CounterVec
	requestDur  *prometheus.HistogramVec
	decisions   *prometheus.CounterVec
	layerDur    *prometheus.HistogramVec
	layerErrors *prometheus.CounterVec
	upstreamDur *prometheus.HistogramVec

	decisionC cache[decisionKey, prometheus.Counter]
	layerDurC cache[durationKey, prometheus.Observer]
	layerErrC cache[layerKey, prometheus.Counter]
	requestC  cache[statusKey, requestChildren]
	upstreamC cache[statusKey, prometheus.Observer]

	tx *txMetrics // counted from finished transactions (transaction.go)
}

var _ engine.Observer = (*Metrics)(nil)

type decisionKey struct {
	layer   string
	phase   engine.Phase
	action  string
	monitor bool
}

type layerKey struct {
	layer string
	phase engine.Phase
}

type durationKey struct {
	layer  string
	phase  engine.Phase
	action string
}

type statusKey struct {
	name   string
	status int
}

type requestChildren struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

// New creates the core metrics and registers them on reg (a
// *prometheus.Registry from NewRegistry, or prometheus.DefaultRegisterer).
// It panics if they are already registered there, like MustRegister.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_requests_total", Help: "Requests handled, by API route and HTTP status sent to the client.",
		}, []string{"route", "status"}),
		requestDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rampart_request_duration_seconds", Help: "Whole request duration (including upstream and streaming), by route.",
			Buckets: RequestBuckets,
		}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_layer_decisions_total", Help: "Layer decisions by layer, phase, action and whether the layer ran in monitor mode.",
		}, []string{"layer", "phase", "action", "monitor"}),
		layerDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rampart_layer_duration_seconds", Help: "Time spent in one layer call, by layer, phase and action (allow, flag, modify, block, error).",
			Buckets: LayerBuckets,
		}, []string{"layer", "phase", "action"}),
		layerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_layer_errors_total", Help: "Layer calls that returned an error or panicked, by layer and phase.",
		}, []string{"layer", "phase"}),
		upstreamDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rampart_upstream_duration_seconds", Help: "Upstream call duration by upstream and HTTP status (0: no answer).",
			Buckets: RequestBuckets,
		}, []string{"upstream", "status"}),
	}
	other := func(k statusKey) statusKey { return statusKey{OtherLabel, k.status} }
	m.requestC.overflow, m.upstreamC.overflow = other, other
	reg.MustRegister(m.requests, m.requestDur, m.decisions, m.layerDur, m.layerErrors, m.upstreamDur)
	m.tx = newTxMetrics()
	reg.MustRegister(m.tx.collectors()...)
	return m
}

// Registerer is where other components register their metrics (the
// gateway hands it to layers as engine.Host.Registerer).
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// NewRegistry returns a registry with the Go runtime and process
// collectors, for New and Handler.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler serves the metrics in g in the Prometheus exposition format.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// LayerDecision implements engine.Observer.
func (m *Metrics) LayerDecision(layer string, phase engine.Phase, action string, monitor bool, d time.Duration) {
	c := m.decisionC.get(decisionKey{layer, phase, action, monitor}, func(k decisionKey) prometheus.Counter {
		return m.decisions.WithLabelValues(k.layer, string(k.phase), k.action, strconv.FormatBool(k.monitor))
	})
	c.Inc()
	o := m.layerDurC.get(durationKey{layer, phase, action}, func(k durationKey) prometheus.Observer {
		return m.layerDur.WithLabelValues(k.layer, string(k.phase), k.action)
	})
	o.Observe(d.Seconds())
}

// LayerError implements engine.Observer.
func (m *Metrics) LayerError(layer string, phase engine.Phase) {
	m.layerErrC.get(layerKey{layer, phase}, func(k layerKey) prometheus.Counter {
		return m.layerErrors.WithLabelValues(k.layer, string(k.phase))
	}).Inc()
}

// Request implements engine.Observer.
func (m *Metrics) Request(route string, status int, d time.Duration) {
	c := m.requestC.get(statusKey{route, status}, func(k statusKey) requestChildren {
		return requestChildren{
			count: m.requests.WithLabelValues(k.name, strconv.Itoa(k.status)),
			dur:   m.requestDur.WithLabelValues(k.name),
		}
	})
	c.count.Inc()
	c.dur.Observe(d.Seconds())
}

// Upstream implements engine.Observer.
func (m *Metrics) Upstream(name string, status int, d time.Duration) {
	m.upstreamC.get(statusKey{name, status}, func(k statusKey) prometheus.Observer {
		return m.upstreamDur.WithLabelValues(k.name, strconv.Itoa(k.status))
	}).Observe(d.Seconds())
}

// cache maps label keys to metric children. Reads load an immutable map
// (lock-free, no allocation); a miss copies the map under a lock. Label
// sets are few and stable, so copies are rare.
type cache[K comparable, V any] struct {
	m  atomic.Pointer[map[K]V]
	mu sync.Mutex
	// overflow, when set, maps a new key to its catch-all key once the
	// cache holds MaxSeries entries (for keys fed from request data).
	overflow func(K) K
}

func (c *cache[K, V]) get(k K, mk func(K) V) V {
	if m := c.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	return c.add(k, mk)
}

func (c *cache[K, V]) add(k K, mk func(K) V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]V
	if p := c.m.Load(); p != nil {
		old = *p
	}
	if v, ok := old[k]; ok {
		return v
	}
	if c.overflow != nil && len(old) >= MaxSeries {
		k = c.overflow(k)
		if v, ok := old[k]; ok {
			return v
		}
	}
	next := make(map[K]V, len(old)+1)
	for kk, vv := range old {
		next[kk] = vv
	}
	v := mk(k)
	next[k] = v
	c.m.Store(&next)
	return v
}
