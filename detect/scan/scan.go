// Package scan is rampart's one-shot text scanning API, shared by the
// `rampart scan` command and the gateway's POST /v1/scan so both give the
// same verdicts in the same JSON shape.
//
// Direction "input" runs the injection/jailbreak detector (package detect)
// on the text with its role's threshold. Direction "output" runs the output
// checkers registered in Scanner.Output. FromConfig builds a scanner with
// the output guard's checker from a configuration (FromChain reusing a
// provisioned chain's detector and output guard), and is what the command
// and the gateway use.
package scan

import (
	"fmt"

	"github.com/rampart-ai/rampart/detect"
)

// Directions.
const (
	Input  = "input"
	Output = "output"
)

// Layer names used in findings.
const LayerInjection = "injection"

// Item is one text to scan.
type Item struct {
	Text string `json:"text"`
	// Role is user (default), system, assistant, document or tool.
	Role string `json:"role,omitempty"`
	// User is the user's request the document or tool result answers, and
	// Tools the names of the tools the request declares: with them, an
	// action request in the data that the user did not ask for is flagged
	// (task drift, detect.Context). Optional.
	User  string   `json:"user,omitempty"`
	Tools []string `json:"tools,omitempty"`
}

// Finding is one piece of evidence; Start and End are code-point offsets
// into Item.Text (End exclusive).
type Finding struct {
	Layer    string  `json:"layer"`
	Rule     string  `json:"rule"`
	Severity string  `json:"severity"`
	Score    float64 `json:"score,omitempty"`
	Start    int     `json:"start"`
	End      int     `json:"end"`
	Message  string  `json:"message"`
	// Decoding names the decoding that revealed the evidence (base64, ...).
	Decoding string `json:"decoding,omitempty"`
	// Entity is the kind of sensitive data (output scanners).
	Entity string `json:"entity,omitempty"`
}

// Result is the verdict on one Item. Findings is never nil, so it encodes
// as [] rather than null.
type Result struct {
	Flagged  bool      `json:"flagged"`
	Score    float64   `json:"score"`
	Findings []Finding `json:"findings"`
	// Redacted is the text with sensitive spans replaced, set only when an
	// output checker's policy rewrote the text; it is absent when nothing
	// was rewritten (a finding the policy only flags included).
	Redacted string `json:"redacted,omitempty"`
	// Error is set instead of a verdict when the item could not be scanned.
	Error string `json:"error,omitempty"`
}

// Checker is one scanner of a direction. It merges its verdict into res
// (raising Flagged and Score, appending Findings, setting Redacted).
type Checker func(item Item, res *Result)

// Scanner runs checkers per direction (FromConfig builds the full one
// from a configuration); it is safe for concurrent use once built.
type Scanner struct {
	Input  []Checker
	Output []Checker
}

// Injection returns the checker that runs detector d.
func Injection(d *detect.Detector) Checker {
	return func(item Item, res *Result) {
		role, err := detect.ParseRole(item.Role)
		if err != nil {
			res.Error = err.Error()
			return
		}
		var ctx *detect.Context
		if item.User != "" || len(item.Tools) > 0 {
			ctx = &detect.Context{UserRequest: item.User, Tools: item.Tools}
		}
		r := d.ScanContext(item.Text, role, ctx)
		res.Score = max(res.Score, r.Score)
		res.Flagged = res.Flagged || r.Flagged || r.SpecialToken
		if !r.Flagged && !r.SpecialToken {
			return
		}
		for _, f := range r.Findings {
			res.Findings = append(res.Findings, Finding{Layer: LayerInjection, Rule: f.Rule, Severity: f.Severity,
				Score: f.Score, Start: f.Start, End: f.End, Message: f.Message, Decoding: f.Decoding})
		}
	}
}

// Scan runs the checkers of direction on item.
func (s *Scanner) Scan(item Item, direction string) Result {
	res := Result{Findings: []Finding{}}
	var cs []Checker
	switch direction {
	case Input, "":
		cs = s.Input
	case Output:
		cs = s.Output
	default:
		res.Error = fmt.Sprintf("unknown direction %q (want input or output)", direction)
		return res
	}
	if _, err := detect.ParseRole(item.Role); err != nil {
		res.Error = err.Error()
		return res
	}
	for _, c := range cs {
		c(item, &res)
		if res.Error != "" {
			return Result{Findings: []Finding{}, Error: res.Error}
		}
	}
	return res
}
