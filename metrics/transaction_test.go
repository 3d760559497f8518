package metrics

import (
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

func TestTransactionCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	txs := []*engine.Tx{
		{Upstream: "openai", Usage: conv.Usage{PromptTokens: 10, CompletionTokens: 4},
			Outcomes: []engine.Outcome{
				{Layer: "outputguard", Phase: engine.PhaseResponse, Action: "modify", Findings: []engine.Finding{
					{Rule: "pii", Entity: "EMAIL_ADDRESS"}, {Rule: "pii", Entity: "EMAIL_ADDRESS"}, {Rule: "pii", Entity: "PHONE_NUMBER"}}},
				{Layer: "topics", Phase: engine.PhaseRequest, Action: "block", Monitor: true, Code: "topic_denied",
					Findings: []engine.Finding{{Rule: "weapons"}}},
			}},
		{Usage: conv.Usage{PromptTokens: 3},
			Outcomes: []engine.Outcome{
				{Layer: "injection", Phase: engine.PhaseRequest, Action: "block", Code: "prompt_injection_detected",
					Findings: []engine.Finding{{Rule: "ignore-previous"}}},
			}},
		{Upstream: "openai"}, // no usage: no token series touched
	}
	for _, tx := range txs {
		m.Transaction(tx)
	}
	want := `
# HELP rampart_layer_blocks_total Blocks by layer, phase and error code; monitor="true" counts blocks a monitor-mode layer would have made.
# TYPE rampart_layer_blocks_total counter
rampart_layer_blocks_total{code="prompt_injection_detected",layer="injection",monitor="false",phase="request"} 1
rampart_layer_blocks_total{code="topic_denied",layer="topics",monitor="true",phase="request"} 1
# HELP rampart_layer_findings_total Findings recorded by layers, by layer, rule id and entity (e.g. EMAIL_ADDRESS; empty when the rule names none). Never content.
# TYPE rampart_layer_findings_total counter
rampart_layer_findings_total{entity="",layer="injection",rule="ignore-previous"} 1
rampart_layer_findings_total{entity="",layer="topics",rule="weapons"} 1
rampart_layer_findings_total{entity="EMAIL_ADDRESS",layer="outputguard",rule="pii"} 2
rampart_layer_findings_total{entity="PHONE_NUMBER",layer="outputguard",rule="pii"} 1
# HELP rampart_tokens_total Tokens used by answered requests, by upstream ("demo" for the built-in model, "none" before routing) and type (prompt, completion).
# TYPE rampart_tokens_total counter
rampart_tokens_total{type="completion",upstream="none"} 0
rampart_tokens_total{type="completion",upstream="openai"} 4
rampart_tokens_total{type="prompt",upstream="none"} 3
rampart_tokens_total{type="prompt",upstream="openai"} 10
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"rampart_layer_blocks_total", "rampart_layer_findings_total", "rampart_tokens_total"); err != nil {
		t.Fatal(err)
	}
}

// TestTransactionCardinalityBound: past MaxSeries distinct rules, new ones
// are counted under OtherLabel.
func TestTransactionCardinalityBound(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	for i := 0; i < MaxSeries+50; i++ {
		m.Transaction(&engine.Tx{Outcomes: []engine.Outcome{{Layer: "topics", Phase: engine.PhaseRequest, Action: "flag",
			Findings: []engine.Finding{{Rule: "rule-" + strconv.Itoa(i)}}}}})
	}
	if n := testutil.CollectAndCount(m.tx.findings); n != MaxSeries+1 {
		t.Fatalf("finding series = %d, want %d", n, MaxSeries+1)
	}
	if v := testutil.ToFloat64(m.tx.findings.WithLabelValues("topics", OtherLabel, OtherLabel)); v != 50 {
		t.Fatalf("other = %v, want 50", v)
	}
}

func BenchmarkTransaction(b *testing.B) {
	m := New(prometheus.NewRegistry())
	tx := &engine.Tx{Upstream: "openai", Usage: conv.Usage{PromptTokens: 10, CompletionTokens: 4},
		Outcomes: []engine.Outcome{
			{Layer: "identity", Phase: engine.PhaseHeaders, Action: "allow"},
			{Layer: "outputguard", Phase: engine.PhaseResponse, Action: "modify", Findings: []engine.Finding{{Rule: "pii", Entity: "EMAIL_ADDRESS"}}},
		}}
	b.ReportAllocs()
	for b.Loop() {
		m.Transaction(tx)
	}
}
