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
//     max_tokens_default of the matching rules (a clamp or block rule
//     without one counts its cap: a request that names no limit would get
//     the upstream's, which may be the model's maximum), never above the
//     smallest cap;
//  2. clamp rules lower a max_tokens above their cap to it;
//  3. block rules refuse what is still above their cap (400), flag rules
//     record a finding.
//
// A cap holds for all the answers a request asks for (n, best_of,
// candidateCount): with k answers each may have cap/k tokens.
//
// It reports whether req.MaxTokens changed (the adapter writes it into the
// provider JSON), and returns a non-nil decision when the request is refused.
func (l *Layer) capMaxTokens(app []applied, req *conv.Conversation) ([]engine.Finding, bool, *engine.Decision) {
	if req == nil || (req.Kind != conv.KindChat && req.Kind != conv.KindCompletion && req.Kind != conv.KindResponses &&
		req.Kind != conv.KindGenerateContent) {
		return nil, false, nil
	}
	answers := int64(max(req.Answers, 1))
	asked := func() string {
		if answers > 1 {
			return fmt.Sprintf("max_tokens %d for each of %d answers", req.MaxTokens, answers)
		}
		return fmt.Sprintf("max_tokens %d", req.MaxTokens)
	}
	refuse := func(r *rule) *engine.Decision {
		l.m.denied.WithLabelValues("max_tokens").Inc()
		return &engine.Decision{Action: engine.Block, Status: http.StatusBadRequest, Code: CodeMaxTokens, Rule: r.Name,
			Reason:   fmt.Sprintf("%s is above the limit of %d set by rate-limit rule %q", asked(), r.MaxTokens, r.Name),
			Findings: []engine.Finding{finding(r, "max_tokens", engine.SeverityLow, "max_tokens above the rule's cap")}}
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
			if d == 0 && r.MaxTokensAction != MaxTokensFlag {
				d = r.MaxTokens
			}
			if d > 0 && (def == 0 || d < def) {
				def, by = d, r
			}
		}
		if def > 0 {
			if capMin > 0 {
				def = min(def, max(capMin/answers, 1))
			}
			req.MaxTokens, modified = int(def), true
			findings = append(findings, finding(by, "max_tokens", engine.SeverityLow,
				fmt.Sprintf("max_tokens absent; set to %d", def)))
		}
	}
	for _, a := range app {
		r := a.r
		if r.MaxTokensAction == MaxTokensClamp && r.MaxTokens > 0 && int64(req.MaxTokens)*answers > r.MaxTokens {
			each := r.MaxTokens / answers
			if each < 1 {
				return nil, false, refuse(r)
			}
			findings = append(findings, finding(r, "max_tokens", engine.SeverityLow,
				fmt.Sprintf("%s lowered to %d (cap %d)", asked(), each, r.MaxTokens)))
			req.MaxTokens, modified = int(each), true
		}
	}
	for _, a := range app {
		r := a.r
		if r.MaxTokens <= 0 || int64(req.MaxTokens)*answers <= r.MaxTokens {
			continue
		}
		switch r.MaxTokensAction {
		case MaxTokensBlock:
			return nil, false, refuse(r)
		case MaxTokensFlag:
			findings = append(findings, finding(r, "max_tokens", engine.SeverityLow,
				fmt.Sprintf("%s above cap %d (passed unchanged)", asked(), r.MaxTokens)))
		}
	}
	return findings, modified, nil
}
