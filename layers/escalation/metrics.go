package escalation

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	calls     *prometheus.CounterVec // api
	verdicts  *prometheus.CounterVec // verdict: injection, benign
	errors    *prometheus.CounterVec // kind
	latency   prometheus.Histogram
	cacheHits prometheus.Counter
	skipped   prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_escalation_calls_total",
			Help: "Calls to the external injection classifier by api (tei, kserve, chat)."}, []string{"api"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_escalation_verdicts_total",
			Help: "Escalated segments by the external classifier's verdict (injection, benign), cached ones included."}, []string{"verdict"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_escalation_errors_total",
			Help: "Failed escalations by kind (timeout, overloaded, breaker_open, http_5xx, http_4xx, malformed, transport, canceled)."},
			[]string{"kind"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rampart_escalation_latency_seconds",
			Help:    "External classifier call latency.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "rampart_escalation_cache_hits_total",
			Help: "Escalation verdicts served from the cache."}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "rampart_escalation_skipped_total",
			Help: "Uncertain segments not escalated because the request reached max_calls."}),
	}
}

// register registers m on r, reusing collectors already registered there
// (a reloaded layer keeps counting into the same series).
func (m *metrics) register(r prometheus.Registerer) error {
	if r == nil {
		return nil
	}
	var err error
	reg := func(c prometheus.Collector) prometheus.Collector {
		if err != nil {
			return c
		}
		if e := r.Register(c); e != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(e, &are) {
				return are.ExistingCollector
			}
			err = e
		}
		return c
	}
	m.calls = reg(m.calls).(*prometheus.CounterVec)
	m.verdicts = reg(m.verdicts).(*prometheus.CounterVec)
	m.errors = reg(m.errors).(*prometheus.CounterVec)
	m.latency = reg(m.latency).(prometheus.Histogram)
	m.cacheHits = reg(m.cacheHits).(prometheus.Counter)
	m.skipped = reg(m.skipped).(prometheus.Counter)
	return err
}
