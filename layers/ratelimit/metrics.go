package ratelimit

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/limits"
)

// metrics are the layer's own Prometheus series.
type metrics struct {
	backendErrors *prometheus.CounterVec // op: admit, settle
	denied        *prometheus.CounterVec // limit: rpm, tpm, ...
}

// newMetrics registers the layer's series on reg (nil: unregistered).
// Registering twice on one registry reuses the existing series.
func newMetrics(reg prometheus.Registerer, backend string, b limits.Backend) (*metrics, error) {
	m := &metrics{
		backendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "rampart_ratelimit_backend_errors_total",
			Help:        "Rate-limit backend calls that failed (unreachable or slow backend).",
			ConstLabels: prometheus.Labels{"backend": backend},
		}, []string{"op"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_ratelimit_denied_total",
			Help: "Requests refused by the rate-limit layer, by limit.",
		}, []string{"limit"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.backendErrors, err = register(reg, m.backendErrors); err != nil {
		return nil, err
	}
	if m.denied, err = register(reg, m.denied); err != nil {
		return nil, err
	}
	if mem, ok := b.(*limits.Memory); ok {
		entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "rampart_ratelimit_memory_entries",
			Help: "Keys held by the memory rate-limit backend.",
		}, func() float64 { return float64(mem.Len()) })
		evictions := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "rampart_ratelimit_memory_evictions_total",
			Help: "Keys the memory rate-limit backend forgot because it reached max_entries.",
		}, func() float64 { return float64(mem.Evictions()) })
		for _, c := range []prometheus.Collector{entries, evictions} {
			if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				return nil, err
			}
		}
	}
	return m, nil
}

func register(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if ex, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return ex, nil
			}
		}
		return nil, err
	}
	return c, nil
}
