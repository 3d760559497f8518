package netguard

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// ListenerMetrics are the Prometheus series of LimitListener.
type ListenerMetrics struct {
	// Refused counts connections closed at accept time, by reason
	// ("per_ip" or "total").
	Refused *prometheus.CounterVec
	// Open is the number of connections currently open.
	Open prometheus.Gauge
}

// NewListenerMetrics creates the series and registers them on reg (nil:
// unregistered). Registering again on the same registry (a gateway served
// twice) reuses the series already there.
func NewListenerMetrics(reg prometheus.Registerer) (*ListenerMetrics, error) {
	m := &ListenerMetrics{
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_network_connections_refused_total",
			Help: "Connections closed at accept time by the connection caps, by reason (per_ip, total).",
		}, []string{"reason"}),
		Open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rampart_network_connections_open",
			Help: "Client connections currently open.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.Refused); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.Refused = are.ExistingCollector.(*prometheus.CounterVec)
	}
	if err := reg.Register(m.Open); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.Open = are.ExistingCollector.(prometheus.Gauge)
	}
	for _, r := range []string{"per_ip", "total"} {
		m.Refused.WithLabelValues(r)
	}
	return m, nil
}
