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

// USD budget overrides, in micro-USD (25_000_000 is $25): a key's own
// budget (on scope key rules), and its tenant's budget for the whole
// tenant (the identity service passes a tenant's budget_usd_* on as
// tenant_budget_usd_*).
const (
	LimitUSDDay         = "budget_usd_day"
	LimitUSDMonth       = "budget_usd_month"
	LimitTenantUSDDay   = "tenant_budget_usd_day"
	LimitTenantUSDMonth = "tenant_budget_usd_month"
)

// MicrosPerUSD is the unit of USD budgets in Identity.Limits.
const MicrosPerUSD = 1_000_000

var usdFields = map[string]func(*Rule) *float64{
	LimitUSDDay:   func(r *Rule) *float64 { return &r.BudgetUSDDay },
	LimitUSDMonth: func(r *Rule) *float64 { return &r.BudgetUSDMonth },
}

func hasOverride(lim map[string]int64) bool {
	for k, v := range lim {
		if _, ok := overrideFields[k]; ok && v != 0 {
			return true
		}
		if _, ok := usdFields[k]; ok && v != 0 {
			return true
		}
	}
	return false
}

// tenantBudget is the rule of a tenant's own USD budget, nil without one.
func tenantBudget(lim map[string]int64) *Rule {
	d, m := lim[LimitTenantUSDDay], lim[LimitTenantUSDMonth]
	if d <= 0 && m <= 0 {
		return nil
	}
	r := &Rule{Name: "tenant-budget", Scope: ScopeTenant, MaxTokensAction: MaxTokensBlock}
	if d > 0 {
		r.BudgetUSDDay = min(float64(d)/MicrosPerUSD, MaxBudgetUSD)
	}
	if m > 0 {
		r.BudgetUSDMonth = min(float64(m)/MicrosPerUSD, MaxBudgetUSD)
	}
	return r
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
	for k, v := range lim {
		if f, ok := usdFields[k]; ok && v != 0 {
			*f(&r) = min(max(float64(v)/MicrosPerUSD, 0), MaxBudgetUSD)
		}
	}
	if v := lim["rpm"]; v != 0 && lim["burst"] == 0 {
		r.Burst = r.RPM
	}
	if r.RPM == 0 {
		r.Burst = 0
	}
	return compile(r)
}

// KnownLimit reports whether name is an Identity.Limits key the layer
// applies (a rule override or a USD budget).
func KnownLimit(name string) bool {
	switch name {
	case LimitUSDDay, LimitUSDMonth:
		return true
	}
	_, ok := overrideFields[name]
	return ok
}
