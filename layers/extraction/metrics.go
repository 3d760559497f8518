package extraction

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the layer's own Prometheus series. Children are resolved once
// so the hot path does no label look-ups.
type metrics struct {
	actions     [levelBlock + 1]prometheus.Counter // requests acted on, by level
	escalations [levelBlock + 1]prometheus.Counter // identities rising to a level
	denied      prometheus.Counter                 // 429s above a tightened rate
}

// newMetrics registers the layer's series on reg (nil: unregistered).
// Registering twice on one registry reuses the existing series.
func newMetrics(reg prometheus.Registerer, tr *tracker) (*metrics, error) {
	actions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_extraction_actions_total",
		Help: "Requests the model-extraction layer flagged, rate-checked (tighten) or refused (block), by action; also in monitor mode.",
	}, []string{"action"})
	escalations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_extraction_escalations_total",
		Help: "Identities whose model-extraction level rose to an action.",
	}, []string{"action"})
	denied := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rampart_extraction_tightened_denied_total",
		Help: "Requests refused with 429 because their identity's rate was tightened.",
	})
	if reg != nil {
		var err error
		if actions, err = registerVec(reg, actions); err != nil {
			return nil, err
		}
		if escalations, err = registerVec(reg, escalations); err != nil {
			return nil, err
		}
		if err := reg.Register(denied); err != nil {
			var are prometheus.AlreadyRegisteredError
			ex, ok := prometheus.Collector(nil), false
			if errors.As(err, &are) {
				ex = are.ExistingCollector
			}
			if denied, ok = ex.(prometheus.Counter); !ok {
				return nil, err
			}
		}
		for _, c := range []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "rampart_extraction_identities",
				Help: "Identities tracked by the model-extraction layer (bounded by max_identities).",
			}, func() float64 { return float64(tr.Len()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "rampart_extraction_evictions_total",
				Help: "Identities the model-extraction layer forgot because it reached max_identities.",
			}, func() float64 { return float64(tr.evictions.Load()) }),
		} {
			if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				return nil, err
			}
		}
	}
	m := &metrics{denied: denied}
	for lv := levelFlag; lv <= levelBlock; lv++ {
		m.actions[lv] = actions.WithLabelValues(lv.String())
		m.escalations[lv] = escalations.WithLabelValues(lv.String())
	}
	return m, nil
}

func registerVec(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
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
