package engine

import "time"

// Action is what a layer decided about a transaction. A policy outcome is
// data, never a Go error: errors mean the layer itself failed.
type Action uint8

const (
	// Allow lets the transaction continue unchanged.
	Allow Action = iota
	// Flag lets it continue and records a finding (audit, metrics).
	Flag
	// Modify lets it continue after the layer changed text (e.g. redaction).
	Modify
	// Block stops the transaction with Decision.Status and an error body.
	Block
)

func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case Flag:
		return "flag"
	case Modify:
		return "modify"
	case Block:
		return "block"
	}
	return "unknown"
}

// Severity of a finding.
type Severity string

const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Finding is one thing a layer found. Findings never carry raw prompt text.
type Finding struct {
	Layer    string   `json:"layer"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity,omitempty"`
	Score    float64  `json:"score,omitempty"`
	// Message index in the conversation (-1 for a top-level system prompt,
	// or for response-side findings the choice index).
	Message int `json:"message_index"`
	// Start and End are offsets in Unicode code points into the segment's
	// original text; both 0 when the finding has no span.
	Start int `json:"start"`
	End   int `json:"end"`
	// Entity names the kind of sensitive data (Presidio names where one exists).
	Entity string `json:"entity,omitempty"`
	// Text is a short description, never the matched content.
	Text string `json:"message,omitempty"`
}

// Decision is a layer's verdict from one phase call.
type Decision struct {
	Action Action
	// Status is the HTTP status for Block (default 400).
	Status int
	// Code is the machine-readable error code for Block, e.g.
	// "prompt_injection_detected"; it appears as error.code in the answer.
	Code string
	// Reason is the human-readable reason shown to the client for Block.
	Reason string
	// Rule is the id of the rule that decided.
	Rule string
	// Findings back the decision (recorded in audit).
	Findings []Finding
	// Headers are added to the client response (e.g. Retry-After on a 429).
	Headers map[string]string
}

// Allowed is the zero-cost "nothing to say" decision.
var Allowed = Decision{}

// Outcome is what the engine recorded about one layer's phase call, after
// mode and failure handling. It feeds audit records and metrics.
type Outcome struct {
	Layer    string        `json:"layer"`
	Phase    Phase         `json:"phase"`
	Action   string        `json:"action"`            // allow, flag, modify, block
	Monitor  bool          `json:"monitor,omitempty"` // decided in monitor mode: not enforced
	Rule     string        `json:"rule,omitempty"`
	Code     string        `json:"code,omitempty"`
	Error    string        `json:"error,omitempty"` // internal error or panic (never content)
	Findings []Finding     `json:"findings,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}
