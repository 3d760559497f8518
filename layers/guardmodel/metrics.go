package guardmodel

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls     *prometheus.CounterVec // direction
	errors    *prometheus.CounterVec // kind
	latency   prometheus.Histogram
	cacheHits prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_guardmodel_calls_total",
			Help: "Guard model calls by direction (input, output)."}, []string{"direction"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_guardmodel_errors_total",
			Help: "Failed guard model calls by kind (timeout, overloaded, http_5xx, http_4xx, malformed, transport, canceled)."},
			[]string{"kind"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rampart_guardmodel_latency_seconds",
			Help:    "Guard model call latency.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "rampart_guardmodel_cache_hits_total",
			Help: "Verdicts served from the cache."}),
	}
}

// register registers m on r, reusing collectors already registered there
// (a reloaded layer keeps counting into the same series).
func (m *metrics) register(r prometheus.Registerer) error {
	if r == nil {
		return nil
	}
	reg := func(c prometheus.Collector) (prometheus.Collector, error) {
		if err := r.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return are.ExistingCollector, nil
			}
			return nil, err
		}
		return c, nil
	}
	c, err := reg(m.calls)
	if err != nil {
		return err
	}
	m.calls = c.(*prometheus.CounterVec)
	if c, err = reg(m.errors); err != nil {
		return err
	}
	m.errors = c.(*prometheus.CounterVec)
	if c, err = reg(m.latency); err != nil {
		return err
	}
	m.latency = c.(prometheus.Histogram)
	if c, err = reg(m.cacheHits); err != nil {
		return err
	}
	m.cacheHits = c.(prometheus.Counter)
	return nil
}
