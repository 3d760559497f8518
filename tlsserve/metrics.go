package tlsserve

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series of a Reloader.
type Metrics struct {
	// Reloads counts loads of changed files, by result ("ok", "error").
	Reloads *prometheus.CounterVec
	// NotAfter is the served certificate's expiry, in Unix seconds.
	NotAfter prometheus.Gauge
}

// NewMetrics creates the series and registers them on reg (nil:
// unregistered), reusing series already registered there.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_tls_reloads_total",
			Help: "Loads of changed TLS certificate, key or client CA files, by result (ok, error).",
		}, []string{"result"}),
		NotAfter: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rampart_tls_certificate_not_after_seconds",
			Help: "Expiry time of the served TLS certificate (Unix seconds).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	if err := reg.Register(m.Reloads); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.Reloads = are.ExistingCollector.(*prometheus.CounterVec)
	}
	if err := reg.Register(m.NotAfter); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.NotAfter = are.ExistingCollector.(prometheus.Gauge)
	}
	for _, r := range []string{"ok", "error"} {
		m.Reloads.WithLabelValues(r)
	}
	return m, nil
}
