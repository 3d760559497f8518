package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rampart-ai/rampart/engine"
)

// txMetrics are counted from each finished transaction's outcomes
// (engine.TxObserver): what layers found and why they blocked, per layer,
// and the token usage per upstream. Rule ids, block codes and entity names
// come from layer code and configuration, and upstream names from the
// configuration, so label sets are few; each family still falls back to
// OtherLabel past MaxSeries.
type txMetrics struct {
	findings *prometheus.CounterVec
	blocks   *prometheus.CounterVec
	tokens   *prometheus.CounterVec

	findingC cache[findingKey, prometheus.Counter]
	blockC   cache[blockKey, prometheus.Counter]
	tokenC   cache[string, tokenChildren]
}

type findingKey struct{ layer, rule, entity string }

type blockKey struct {
	layer   string
	phase   engine.Phase
	code    string
	monitor bool
}

type tokenChildren struct{ prompt, completion prometheus.Counter }

var _ engine.TxObserver = (*Metrics)(nil)

func newTxMetrics() *txMetrics {
	t := &txMetrics{
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_layer_findings_total",
			Help: "Findings recorded by layers, by layer, rule id and entity (e.g. EMAIL_ADDRESS; empty when the rule names none). Never content.",
		}, []string{"layer", "rule", "entity"}),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_layer_blocks_total",
			Help: "Blocks by layer, phase and error code; monitor=\"true\" counts blocks a monitor-mode layer would have made.",
		}, []string{"layer", "phase", "code", "monitor"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rampart_tokens_total",
			Help: "Tokens used by answered requests, by upstream (\"demo\" for the built-in model, \"none\" before routing) and type (prompt, completion).",
		}, []string{"upstream", "type"}),
	}
	t.findingC.overflow = func(k findingKey) findingKey { return findingKey{k.layer, OtherLabel, OtherLabel} }
	t.blockC.overflow = func(k blockKey) blockKey { return blockKey{k.layer, k.phase, OtherLabel, k.monitor} }
	t.tokenC.overflow = func(string) string { return OtherLabel }
	return t
}

func (t *txMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{t.findings, t.blocks, t.tokens}
}

// Transaction implements engine.TxObserver.
func (m *Metrics) Transaction(tx *engine.Tx) {
	t := m.tx
	for i := range tx.Outcomes {
		o := &tx.Outcomes[i]
		for j := range o.Findings {
			f := &o.Findings[j]
			t.findingC.get(findingKey{o.Layer, f.Rule, f.Entity}, func(k findingKey) prometheus.Counter {
				return t.findings.WithLabelValues(k.layer, k.rule, k.entity)
			}).Inc()
		}
		if o.Action == "block" {
			t.blockC.get(blockKey{o.Layer, o.Phase, o.Code, o.Monitor}, func(k blockKey) prometheus.Counter {
				return t.blocks.WithLabelValues(k.layer, string(k.phase), k.code, strconv.FormatBool(k.monitor))
			}).Inc()
		}
	}
	u := tx.Usage
	if u.PromptTokens <= 0 && u.CompletionTokens <= 0 {
		return
	}
	up := tx.Upstream
	if up == "" {
		up = "none"
	}
	c := t.tokenC.get(up, func(k string) tokenChildren {
		return tokenChildren{t.tokens.WithLabelValues(k, "prompt"), t.tokens.WithLabelValues(k, "completion")}
	})
	if u.PromptTokens > 0 {
		c.prompt.Add(float64(u.PromptTokens))
	}
	if u.CompletionTokens > 0 {
		c.completion.Add(float64(u.CompletionTokens))
	}
}
