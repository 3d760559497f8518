package ratelimit

// overrideFields maps Identity.Limits keys (the rule's YAML names) to the
// rule field they replace.
var overrideFields = map[string]func(*Rule) *int64{
	"rpm":               func(r *Rule) *int64 { return &r.RPM },
	"burst":             func(r *Rule) *int64 { return &r.Burst },
	"tpm":               func(r *Rule) *int64 { return &r.TPM },
	"prompt_tpm":        func(r *Rule) *int64 { return &r.PromptTPM },
	"max_parallel":      func(r *Rule) *int64 { return &r.MaxParallel },
	"budget_day":        func(r *Rule) *int64 { return &r.BudgetDay },
	"budget_month":      func(r *Rule) *int64 { return &r.BudgetMonth },
	"max_prompt_tokens": func(r *Rule) *int64 { return &r.MaxPromptTokens },
	"max_tokens":        func(r *Rule) *int64 { return &r.MaxTokens },
}

func hasOverride(lim map[string]int64) bool {
	for k, v := range lim {
		if _, ok := overrideFields[k]; ok && v != 0 {
			return true
		}
	}
	return false
}

// override applies per-key limits to a rule: a positive value replaces the
// policy's, a negative one removes the limit (unlimited for this key), 0 or
// absent keeps the policy's. A new rpm without a burst of its own gets
// burst = rpm. Values above the config maximum are clamped to it.
func override(base Rule, lim map[string]int64) rule {
	r := base
	for k, v := range lim {
		f, ok := overrideFields[k]
		if !ok || v == 0 {
			continue
		}
		*f(&r) = min(max(v, 0), maxLimit)
	}
	if v := lim["rpm"]; v != 0 && lim["burst"] == 0 {
		r.Burst = r.RPM
	}
	if r.RPM == 0 {
		r.Burst = 0
	}
	return compile(r)
}
