package mcpgw

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the MCP proxy's Prometheus metrics.
type Metrics struct {
	calls          *prometheus.CounterVec
	findings       *prometheus.CounterVec
	withheld       *prometheus.CounterVec
	pending        *prometheus.CounterVec
	upstreamErrors *prometheus.CounterVec

	mu    sync.Mutex
	tools map[string]map[string]bool // server → tool names used as labels
}

// maxToolLabels bounds the distinct tool labels per server (the names come
// from clients and servers); further tools are counted as "other".
const maxToolLabels = 256

// NewMetrics creates the metrics (register them with Register).
func NewMetrics() *Metrics {
	return &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_mcp_calls_total",
			Help: "MCP messages checked, by server, method, tool and decision (allow, flag, modify, block, monitor_block, refused, unavailable)."},
			[]string{"server", "method", "tool", "decision"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_mcp_findings_total",
			Help: "Findings of the MCP checks, by server and rule."}, []string{"server", "rule"}),
		withheld: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_mcp_definitions_withheld_total",
			Help: "Tool, prompt and resource definitions kept from clients, by server, kind and reason (poisoned, pending, rejected, too_large)."},
			[]string{"server", "kind", "reason"}),
		pending: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_mcp_tool_reviews_total",
			Help: "Tool definitions that became pending (new and poisoned, or changed) and wait for an administrator."},
			[]string{"server"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rampart_mcp_upstream_errors_total",
			Help: "MCP servers that could not be reached or timed out."}, []string{"server"}),
		tools: map[string]map[string]bool{},
	}
}

// Register registers the metrics with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.calls, m.findings, m.withheld, m.pending, m.upstreamErrors} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *Metrics) toolLabel(server, tool string) string {
	if tool == "" {
		return ""
	}
	if len(tool) > 64 {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.tools[server]
	if set == nil {
		set = map[string]bool{}
		m.tools[server] = set
	}
	if set[tool] {
		return tool
	}
	if len(set) >= maxToolLabels {
		return "other"
	}
	set[tool] = true
	return tool
}

// observe counts one checked message.
func (m *Metrics) observe(server, method, tool string, v *verdict, monitor bool) {
	if method != "result" && !knownMethod(method) {
		method = "other"
	}
	decision := "allow"
	switch {
	case v.unavailable != nil:
		decision = "unavailable"
	case v.block && monitor:
		decision = "monitor_block"
	case v.block:
		decision = "block"
	case v.changed:
		decision = "modify"
	case len(v.findings) > 0:
		decision = "flag"
	}
	m.calls.WithLabelValues(server, method, m.toolLabel(server, tool), decision).Inc()
	seen := map[string]bool{}
	for _, f := range v.findings {
		if !seen[f.Rule] && !strings.HasPrefix(f.Rule, "injection.") {
			seen[f.Rule] = true
			m.findings.WithLabelValues(server, f.Rule).Inc()
		}
	}
}
