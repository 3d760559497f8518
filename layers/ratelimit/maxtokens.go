package ratelimit

import (
	"fmt"
	"net/http"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// capMaxTokens applies the max_tokens rules of app to req, independently of
// the rules' order:
//
//  1. a chat or completion request without max_tokens gets the smallest
//     max_tokens_default of the matching rules (a clamp rule without one
//     counts its cap), never above the smallest cap;
//  2. clamp rules lower a max_tokens above their cap to it;
//  3. block rules refuse what is still above their cap (400), flag rules
//     record a finding.
//
// It reports whether req.MaxTokens changed (the adapter writes it into the
// provider JSON), and returns a non-nil decision when the request is refused.
func (l *Layer) capMaxTokens(app []applied, req *conv.Conversation) ([]engine.Finding, bool, *engine.Decision) {
	if req == nil || (req.Kind != conv.KindChat && req.Kind != conv.KindCompletion && req.Kind != conv.KindResponses) {
		return nil, false, nil
	}
	var findings []engine.Finding
	modified := false
	if req.MaxTokens <= 0 {
		var def, capMin int64
		var by *rule
		for _, a := range app {
			r := a.r
			if r.MaxTokens > 0 && (capMin == 0 || r.MaxTokens < capMin) {
				capMin = r.MaxTokens
			}
			d := r.MaxTokensDefault
			if d == 0 && r.MaxTokensAction == MaxTokensClamp {
				d = r.MaxTokens
			}
			if d > 0 && (def == 0 || d < def) {
				def, by = d, r
			}
		}
		if def > 0 {
			if capMin > 0 {
				def = min(def, capMin)
			}
			req.MaxTokens, modified = int(def), true
			findings = append(findings, finding(by, "max_tokens", engine.SeverityLow,
				fmt.Sprintf("max_tokens absent; set to %d", def)))
		}
	}
	for _, a := range app {
		r := a.r
		if r.MaxTokensAction == MaxTokensClamp && r.MaxTokens > 0 && int64(req.MaxTokens) > r.MaxTokens {
			findings = append(findings, finding(r, "max_tokens", engine.SeverityLow,
				fmt.Sprintf("max_tokens %d lowered to the cap %d", req.MaxTokens, r.MaxTokens)))
			req.MaxTokens, modified = int(r.MaxTokens), true
		}
	}
	for _, a := range app {
		r := a.r
		if r.MaxTokens <= 0 || int64(req.MaxTokens) <= r.MaxTokens {
			continue
		}
		switch r.MaxTokensAction {
		case MaxTokensBlock:
			l.m.denied.WithLabelValues("max_tokens").Inc()
			return nil, false, &engine.Decision{Action: engine.Block, Status: http.StatusBadRequest, Code: CodeMaxTokens, Rule: r.Name,
				Reason:   fmt.Sprintf("max_tokens %d is above the limit of %d set by rate-limit rule %q", req.MaxTokens, r.MaxTokens, r.Name),
				Findings: []engine.Finding{finding(r, "max_tokens", engine.SeverityLow, "max_tokens above the rule's cap")}}
		case MaxTokensFlag:
			findings = append(findings, finding(r, "max_tokens", engine.SeverityLow,
				fmt.Sprintf("max_tokens %d above cap %d (passed unchanged)", req.MaxTokens, r.MaxTokens)))
		}
	}
	return findings, modified, nil
}
