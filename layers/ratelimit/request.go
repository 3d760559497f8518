package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
)

// Limit names: Identity.Limits keys, metric labels, finding rules.
const (
	limRPM      = "rpm"
	limTPM      = "tpm"
	limPTPM     = "prompt_tpm"
	limParallel = "max_parallel"
	limDay      = "budget_day"
	limMonth    = "budget_month"
	limReqDay   = "requests_day"
	limReqMonth = "requests_month"
	limUSDDay   = LimitUSDDay
	limUSDMonth = LimitUSDMonth
)

// Error codes of the layer's answers.
const (
	CodeRateLimit    = "rate_limit_exceeded"
	CodeTokens       = "tokens_per_minute_exceeded"
	CodeConcurrency  = "concurrency_limit_exceeded"
	CodeBudget       = "budget_exceeded"
	CodePromptTooBig = "prompt_too_large"
	CodeMaxTokens    = "max_tokens_exceeded"
)

// applied is a rule selected for a request with the value it counts per.
type applied struct {
	r   *rule
	val string
}

// checkMeta says which rule and limit a backend check stands for.
type checkMeta struct {
	r     *rule
	limit string
	value int64
}

// txState carries what OnRequest charged to OnFinish.
type txState struct {
	settle       []limits.Check // concurrency releases and token charges to correct
	limit        []string       // limit name per settle entry
	rule         []string       // rule name per settle entry
	scope        []string       // rule scope per settle entry
	prompt       int64          // prompt tokens estimated (or counted) and charged
	exact        bool           // prompt was counted with the tokenizer, not estimated
	streamBytes  int64          // answer bytes seen in a stream
	streamPrompt int64          // prompt tokens a stream event reported
	counted      int64          // answer tokens counted in a whole response without usage
}

// OnRequest checks every applicable limit and charges them all, or answers
// 429 (400 for max_tokens / prompt size) naming the limit that was hit.
func (l *Layer) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	sc := scratchPool.Get().(*scratch)
	defer sc.release()
	app := l.selectRules(tx, sc.app[:0], sc.over[:0])
	if len(app) == 0 {
		return engine.Allowed, nil
	}
	req := tx.Request
	// The prompt's tokens to charge: estimated lazily (one pass over the
	// bytes), or counted exactly when a token cap needed the count anyway.
	prompt, exact := int64(-1), false
	count := func() int64 {
		if prompt < 0 {
			prompt = 0
			if req != nil {
				prompt = promptEstimate(req)
			}
		}
		return prompt
	}
	findings, modified, block := l.capMaxTokens(app, req)
	if block != nil {
		return *block, nil
	}
	for _, a := range app {
		r := a.r
		if r.MaxPromptTokens > 0 && req != nil {
			if !exact && promptBytes(req) <= r.MaxPromptTokens {
				continue // cannot be more tokens than bytes
			}
			if !exact { // a cap is a hard answer: count exactly
				prompt, exact = promptTokens(req), true
			}
			if n := prompt; n > r.MaxPromptTokens {
				l.m.denied.WithLabelValues("max_prompt_tokens").Inc()
				return engine.Decision{Action: engine.Block, Status: http.StatusBadRequest, Code: CodePromptTooBig, Rule: r.Name,
					Reason:   fmt.Sprintf("the prompt counts about %d tokens, more than the %d allowed by rate-limit rule %q", n, r.MaxPromptTokens, r.Name),
					Findings: []engine.Finding{finding(r, "max_prompt_tokens", engine.SeverityLow, "prompt above the rule's token cap")}}, nil
			}
		}
	}

	checks, metas := sc.checks[:0], sc.metas[:0]
	now := l.now()
	for _, a := range app {
		r := a.r
		add := func(limit string, value int64, c limits.Check) {
			checks = append(checks, c)
			metas = append(metas, checkMeta{r: r, limit: limit, value: value})
		}
		if r.RPM > 0 {
			add(limRPM, r.RPM, limits.Check{Kind: limits.Rate, Key: l.key(r, limRPM, a.val, ""),
				Interval: r.rpmIv, Capacity: r.Burst, Cost: 1})
		}
		if r.TPM > 0 {
			add(limTPM, r.TPM, limits.Check{Kind: limits.Rate, Key: l.key(r, limTPM, a.val, ""),
				Interval: r.tpmIv, Capacity: r.TPM, Cost: count()})
		}
		if r.PromptTPM > 0 {
			add(limPTPM, r.PromptTPM, limits.Check{Kind: limits.Rate, Key: l.key(r, limPTPM, a.val, ""),
				Interval: r.ptpIv, Capacity: r.PromptTPM, Cost: count()})
		}
		if r.MaxParallel > 0 {
			add(limParallel, r.MaxParallel, limits.Check{Kind: limits.Concurrency, Key: l.key(r, limParallel, a.val, ""),
				Limit: r.MaxParallel, Member: member(tx), Lease: l.cfg.ConcurrencyLease})
		}
		if r.BudgetDay > 0 {
			w, end := dayWindow(now)
			add(limDay, r.BudgetDay, limits.Check{Kind: limits.Counter, Key: l.key(r, limDay, a.val, w),
				Limit: r.BudgetDay, Cost: count(), Expires: end})
		}
		if r.BudgetMonth > 0 {
			w, end := monthWindow(now)
			add(limMonth, r.BudgetMonth, limits.Check{Kind: limits.Counter, Key: l.key(r, limMonth, a.val, w),
				Limit: r.BudgetMonth, Cost: count(), Expires: end})
		}
		// USD budgets: the cost is known when the request ends (OnFinish
		// charges it); now the request passes while spend is below the
		// budget.
		if r.usdDay > 0 {
			w, end := dayWindow(now)
			add(limUSDDay, r.usdDay, limits.Check{Kind: limits.Counter, Key: l.key(r, limUSDDay, a.val, w),
				Limit: r.usdDay, Expires: end})
		}
		if r.RequestsDay > 0 {
			w, end := dayWindow(now)
			add(limReqDay, r.RequestsDay, limits.Check{Kind: limits.Counter, Key: l.key(r, limReqDay, a.val, w),
				Limit: r.RequestsDay, Cost: 1, Expires: end})
		}
		if r.RequestsMonth > 0 {
			w, end := monthWindow(now)
			add(limReqMonth, r.RequestsMonth, limits.Check{Kind: limits.Counter, Key: l.key(r, limReqMonth, a.val, w),
				Limit: r.RequestsMonth, Cost: 1, Expires: end})
		}
		if r.usdMonth > 0 {
			w, end := monthWindow(now)
			add(limUSDMonth, r.usdMonth, limits.Check{Kind: limits.Counter, Key: l.key(r, limUSDMonth, a.val, w),
				Limit: r.usdMonth, Expires: end})
		}
	}
	if len(checks) == 0 {
		return passed(findings, modified, nil), nil
	}
	var sts []limits.Status
	if len(checks) > len(sc.sts) {
		sts = make([]limits.Status, len(checks))
	} else {
		sts = sc.sts[:len(checks)]
	}
	ctx := tx.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ok, err := l.backend.Admit(ctx, checks, sts)
	if err != nil {
		l.m.backendErrors.WithLabelValues("admit").Inc()
		return engine.Decision{}, fmt.Errorf("ratelimit: %s backend failed, request not admitted: %w", l.cfg.Backend, err)
	}
	if !ok {
		for i := range sts {
			if !sts[i].OK {
				l.m.denied.WithLabelValues(metas[i].limit).Inc()
				return deny(i, metas, sts, max(prompt, 0)), nil
			}
		}
	}
	l.remember(tx, checks, metas, max(prompt, 0), exact)
	return passed(findings, modified, successHeaders(metas, sts)), nil
}

// scratch is OnRequest's working memory, pooled so that a request with a
// handful of rules allocates little.
type scratch struct {
	app    [8]applied
	over   [3]rule
	checks [8]limits.Check
	metas  [8]checkMeta
	sts    [8]limits.Status
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release clears references (keys, rules) and returns sc to the pool.
func (sc *scratch) release() {
	*sc = scratch{}
	scratchPool.Put(sc)
}

// remember keeps what OnFinish must release or correct.
func (l *Layer) remember(tx *engine.Tx, checks []limits.Check, metas []checkMeta, prompt int64, exact bool) {
	var st *txState
	for i := range checks {
		c := checks[i]
		switch metas[i].limit {
		case limRPM, limReqDay, limReqMonth:
			continue // a request is a request: nothing to correct
		case limParallel:
		default:
			c.Cost = 0 // set by OnFinish
		}
		if st == nil {
			n := len(checks) - i // an upper bound of the entries kept: allocate once
			st = &txState{prompt: prompt, exact: exact, settle: make([]limits.Check, 0, n),
				limit: make([]string, 0, n), rule: make([]string, 0, n), scope: make([]string, 0, n)}
		}
		st.settle = append(st.settle, c)
		st.limit = append(st.limit, metas[i].limit)
		st.rule = append(st.rule, metas[i].r.Name)
		st.scope = append(st.scope, metas[i].r.Scope)
	}
	if st == nil {
		return
	}
	tx.SetState(stateKey, st)
	// Tokens are charged: a stream must report its real usage. When the
	// client did not ask for it, the adapter asks the upstream, and
	// OnStreamEvent hides the usage-only event from the client.
	if req := tx.Request; l.cfg.StreamUsage == StreamUsageAsk && req != nil && req.Stream && !req.IncludeUsage &&
		(req.Kind == conv.KindChat || req.Kind == conv.KindCompletion || req.Kind == conv.KindResponses) {
		for _, lim := range st.limit {
			if lim != limParallel {
				req.WantUsage = true
				break
			}
		}
	}
}

// passed is the decision for an admitted request: Modify when max_tokens
// was rewritten, Flag with findings, else Allow; with the rate-limit
// headers for the client's answer.
func passed(f []engine.Finding, modified bool, h map[string]string) engine.Decision {
	d := engine.Decision{Headers: h}
	switch {
	case modified:
		d.Action = engine.Modify
	case len(f) > 0:
		d.Action = engine.Flag
	default:
		return d
	}
	d.Rule, d.Findings = f[0].Rule, f
	return d
}

func finding(r *rule, limit string, sev engine.Severity, text string) engine.Finding {
	return engine.Finding{Layer: Name, Rule: r.Name + "/" + limit, Severity: sev, Message: -1, Text: text}
}

// member identifies tx's concurrency slot.
func member(tx *engine.Tx) string {
	if tx.ID == "" {
		tx.ID = engine.NewRequestID()
	}
	return tx.ID
}

func (l *Layer) key(r *rule, limit, val, window string) string {
	return buildKey(l.cfg.RedisPrefix, r.Name, limit, val, window)
}

// selectRules returns the rules that apply to tx with their scope values,
// after per-key overrides from tx.Identity.Limits.
func (l *Layer) selectRules(tx *engine.Tx, out []applied, over []rule) []applied {
	var lim map[string]int64
	if tx.Identity != nil && len(tx.Identity.Limits) > 0 && hasOverride(tx.Identity.Limits) {
		lim = tx.Identity.Limits
	}
	keyRule := false
	for i := range l.rules {
		r := &l.rules[i]
		if !r.matches(tx) {
			continue
		}
		v := scopeValue(r.scope, tx, l.cfg.IPv6Prefix)
		if v == "" {
			continue
		}
		if lim != nil && r.scope == scKey {
			keyRule = true
			over = append(over, override(r.Rule, lim))
			r = &over[len(over)-1]
		}
		out = append(out, applied{r: r, val: v})
	}
	if lim != nil && !keyRule {
		if v := scopeValue(scKey, tx, l.cfg.IPv6Prefix); v != "" {
			over = append(over, override(Rule{Name: "key-override", Scope: ScopeKey, MaxTokensAction: MaxTokensBlock}, lim))
			out = append(out, applied{r: &over[len(over)-1], val: v})
		}
	}
	if tx.Identity != nil {
		if tb := tenantBudget(tx.Identity.Limits); tb != nil {
			if v := scopeValue(scTenant, tx, l.cfg.IPv6Prefix); v != "" {
				over = append(over, compile(*tb))
				out = append(out, applied{r: &over[len(over)-1], val: v})
			}
		}
	}
	return out
}
