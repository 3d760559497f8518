package gateway

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/rampart-ai/rampart/config"
)

// upstreamHealth is what the gateway keeps per upstream name across
// reloads: its circuit breaker and its calls in flight.
type upstreamHealth struct {
	name     string
	settings config.Breaker
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}] // nil: breaker disabled
	inFlight atomic.Int64
}

// errUpstreamFailed is what a failed attempt reports to the breaker.
var errUpstreamFailed = errors.New("upstream attempt failed")

// allow asks the breaker for one call; done reports its outcome. ok is
// false while the breaker is open (or half-open with its probe out).
func (h *upstreamHealth) allow() (done func(failed bool), ok bool) {
	if h.cb == nil {
		return func(bool) {}, true
	}
	d, err := h.cb.Allow()
	if err != nil {
		return nil, false
	}
	return func(failed bool) {
		if failed {
			d(errUpstreamFailed)
		} else {
			d(nil)
		}
	}, true
}

// state is "closed", "half_open" or "open" ("disabled" without breaker).
func (h *upstreamHealth) state() string {
	if h.cb == nil {
		return "disabled"
	}
	switch h.cb.State() {
	case gobreaker.StateOpen:
		return "open"
	case gobreaker.StateHalfOpen:
		return "half_open"
	}
	return "closed"
}

// open reports whether the breaker refuses calls now (open, cool-down not
// over).
func (h *upstreamHealth) open() bool { return h.cb != nil && h.cb.State() == gobreaker.StateOpen }

// healthSet holds the upstreams' health by name, for every generation.
type healthSet struct {
	mu sync.Mutex
	m  map[string]*upstreamHealth

	attempts    *prometheus.CounterVec
	transitions *prometheus.CounterVec
	stateDesc   *prometheus.Desc
	flightDesc  *prometheus.Desc
}

func newHealthSet(reg prometheus.Registerer) *healthSet {
	hs := &healthSet{m: map[string]*upstreamHealth{},
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_upstream_attempts_total",
			Help: "Upstream calls by upstream and result: ok, or why the attempt was not used (status_503, connect_error, timeout, breaker_open, ...).",
		}, []string{"upstream", "result"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_upstream_breaker_transitions_total",
			Help: "Circuit breaker state changes by upstream and new state (closed, half_open, open).",
		}, []string{"upstream", "state"}),
		stateDesc: prometheus.NewDesc("rampart_upstream_breaker_state",
			"Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.", []string{"upstream"}, nil),
		flightDesc: prometheus.NewDesc("rampart_upstream_in_flight",
			"Upstream calls in flight (streams until they end) per upstream.", []string{"upstream"}, nil),
	}
	if reg != nil {
		reg.MustRegister(hs.attempts, hs.transitions, hs)
	}
	return hs
}

// Describe implements prometheus.Collector.
func (hs *healthSet) Describe(ch chan<- *prometheus.Desc) {
	ch <- hs.stateDesc
	ch <- hs.flightDesc
}

// Collect implements prometheus.Collector.
func (hs *healthSet) Collect(ch chan<- prometheus.Metric) {
	for _, h := range hs.list() {
		v := 0.0
		switch h.state() {
		case "half_open":
			v = 1
		case "open":
			v = 2
		}
		ch <- prometheus.MustNewConstMetric(hs.stateDesc, prometheus.GaugeValue, v, h.name)
		ch <- prometheus.MustNewConstMetric(hs.flightDesc, prometheus.GaugeValue, float64(h.inFlight.Load()), h.name)
	}
}

// list returns the upstreams' health sorted by name.
func (hs *healthSet) list() []*upstreamHealth {
	hs.mu.Lock()
	out := make([]*upstreamHealth, 0, len(hs.m))
	for _, h := range hs.m {
		out = append(out, h)
	}
	hs.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// get returns the health of upstream name, keeping its breaker state when
// the breaker settings are unchanged (a reload that only edits other
// settings does not close an open breaker).
func (hs *healthSet) get(name string, b config.Breaker) *upstreamHealth {
	b = breakerDefaults(b)
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if h, ok := hs.m[name]; ok && h.settings == b {
		return h
	}
	h := &upstreamHealth{name: name, settings: b}
	if old, ok := hs.m[name]; ok {
		h.inFlight.Store(old.inFlight.Load())
	}
	if b.Failures >= 0 {
		failures, rate, minReq := uint32(max(b.Failures, 1)), b.ErrorRate, uint32(b.MinRequests)
		h.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:        name,
			MaxRequests: 1,
			Interval:    b.Window,
			// A rolling window of six buckets rather than a reset at each
			// window's end.
			BucketPeriod: max(b.Window/6, time.Millisecond),
			Timeout:      b.Cooldown,
			ReadyToTrip: func(c gobreaker.Counts) bool {
				if c.ConsecutiveFailures >= failures {
					return true
				}
				return rate > 0 && c.Requests >= max(minReq, 1) &&
					float64(c.TotalFailures) >= rate*float64(c.Requests)
			},
			OnStateChange: func(name string, _, to gobreaker.State) {
				s := "closed"
				switch to {
				case gobreaker.StateOpen:
					s = "open"
				case gobreaker.StateHalfOpen:
					s = "half_open"
				}
				hs.transitions.WithLabelValues(name, s).Inc()
			},
		})
	}
	hs.m[name] = h
	return h
}

// breakerDefaults fills unset fields (a config built in Go without
// config.Load).
func breakerDefaults(b config.Breaker) config.Breaker {
	if b.Failures == 0 {
		b.Failures = config.DefaultBreakerFailures
	}
	if b.ErrorRate == 0 {
		b.ErrorRate = config.DefaultBreakerErrorRate
	}
	if b.MinRequests == 0 {
		b.MinRequests = config.DefaultBreakerMinRequests
	}
	b.Window = orDur(b.Window, config.DefaultBreakerWindow)
	b.Cooldown = orDur(b.Cooldown, config.DefaultBreakerCooldown)
	return b
}

// upstreamStatus is one upstream in /readyz.
type upstreamStatus struct {
	Name     string `json:"name"`
	Breaker  string `json:"breaker"`
	InFlight int64  `json:"in_flight"`
}

// status lists the upstreams of the configuration in force.
func (hs *healthSet) status(names map[string]bool) []upstreamStatus {
	var out []upstreamStatus
	for _, h := range hs.list() {
		if names != nil && !names[h.name] {
			continue
		}
		out = append(out, upstreamStatus{Name: h.name, Breaker: h.state(), InFlight: h.inFlight.Load()})
	}
	return out
}
