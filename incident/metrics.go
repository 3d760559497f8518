package incident

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are incident response's Prometheus series.
type metrics struct {
	violations       *prometheus.CounterVec // kind
	dropped          prometheus.Counter
	actions          *prometheus.CounterVec // action
	actionErrors     prometheus.Counter
	redisErrors      prometheus.Counter
	webhookDelivered prometheus.Counter
	webhookFailed    prometheus.Counter
	webhookDropped   prometheus.Counter
	webhooks         *prometheus.CounterVec // result
}

func newMetrics() *metrics {
	hooks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rampart_incident_webhook_alerts_total",
		Help: "Webhook alerts by result: delivered, failed (all attempts failed) or dropped (queue full).",
	}, []string{"result"})
	return &metrics{
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_incident_violations_total",
			Help: "Violations scored by incident response, by kind.",
		}, []string{"kind"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rampart_incident_dropped_total",
			Help: "Transactions with violations not scored because the incident queue was full.",
		}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_incident_actions_total",
			Help: "Automatic actions taken, by action (block, throttle, alert).",
		}, []string{"action"}),
		actionErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rampart_incident_action_errors_total",
			Help: "Automatic blocks or throttles that could not be stored, and audit records that could not be written.",
		}),
		redisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rampart_incident_redis_errors_total",
			Help: "Redis failures of backend redis; each violation then scored in this replica's memory (Redis is retried a second later).",
		}),
		webhookDelivered: hooks.WithLabelValues("delivered"),
		webhookFailed:    hooks.WithLabelValues("failed"),
		webhookDropped:   hooks.WithLabelValues("dropped"),
		webhooks:         hooks,
	}
}

// register exports m on reg; a registry that already has the series
// (a second responder on one registry) is not an error, but the second
// responder's counts are then not exported.
func (m *metrics) register(reg prometheus.Registerer, extra ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	cs := append([]prometheus.Collector{m.violations, m.dropped, m.actions, m.actionErrors, m.redisErrors, m.webhooks}, extra...)
	for _, c := range cs {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return err
		}
	}
	return nil
}
