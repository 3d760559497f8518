package ratelimit

import (
	"context"
	"strconv"
	"time"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/incident"
	"github.com/rampart-ai/rampart/limits"
	"github.com/rampart-ai/rampart/pricing"
)

// OnResponse counts the answer's tokens when the upstream reported no usage
// (rare for whole responses), for OnFinish's reconciliation.
func (l *Layer) OnResponse(tx *engine.Tx, resp *conv.Response) (engine.Decision, error) {
	if st, _ := tx.State(stateKey).(*txState); st != nil && resp != nil && resp.Usage == nil {
		model := resp.Model
		if model == "" && tx.Request != nil {
			model = tx.Request.Model
		}
		st.counted = responseTokens(model, resp)
	}
	return engine.Allowed, nil
}

// OnStreamEvent adds up the streamed answer's size, used to estimate
// completion tokens when the stream carries no usage, and keeps the prompt
// tokens an event reports (Anthropic reports them in message_start, the
// completion in message_delta). It drops the usage-only event of a stream
// whose usage the layer asked for (Conversation.WantUsage) and whose client
// did not: the client sees the stream it asked for.
func (l *Layer) OnStreamEvent(tx *engine.Tx, ev *conv.StreamEvent) (engine.Decision, error) {
	if st, _ := tx.State(stateKey).(*txState); st != nil {
		if u := ev.Usage; u != nil {
			if u.PromptTokens > 0 {
				st.streamPrompt = int64(u.PromptTokens)
			}
			if req := tx.Request; req != nil && req.WantUsage && !req.IncludeUsage && usageOnly(ev) {
				ev.Drop = true
			}
		}
		for i := range ev.Deltas {
			st.streamBytes += int64(len(ev.Deltas[i].Text))
		}
		for i := range ev.ToolCalls {
			st.streamBytes += int64(len(ev.ToolCalls[i].ArgumentsDelta) + len(ev.ToolCalls[i].Name))
		}
	}
	return engine.Allowed, nil
}

// usageOnly reports whether ev carries nothing for the client but usage
// (OpenAI's final chunk with "choices": [] when include_usage is set).
func usageOnly(ev *conv.StreamEvent) bool {
	return ev.Usage != nil && !ev.Done && !ev.Synthetic && len(ev.Deltas) == 0 &&
		len(ev.ToolCalls) == 0 && len(ev.FinishReason) == 0
}

// OnStreamEnd implements engine.StreamLayer (the layer holds no text).
func (l *Layer) OnStreamEnd(*engine.Tx, *conv.StreamEvent) (engine.Decision, error) {
	return engine.Allowed, nil
}

// OnFinish releases concurrency slots and corrects token charges: the
// upstream's usage (tx.Usage) replaces the counted prompt, and completion
// tokens are charged to tpm and budgets without denying. It runs for every
// transaction the layer admitted, also after a block, error or panic.
func (l *Layer) OnFinish(tx *engine.Tx) {
	st, _ := tx.State(stateKey).(*txState)
	if st == nil || len(st.settle) == 0 {
		return
	}
	// Token usage is worked out only when a token charge needs it (it may
	// count the prompt with the tokenizer).
	var prompt, total int64
	for _, lim := range st.limit {
		if lim != limParallel && lim != limUSDDay && lim != limUSDMonth {
			prompt, total = l.usage(tx, st)
			break
		}
	}
	var usd []budgetCharge
	adj := st.settle[:0]
	for i, c := range st.settle {
		switch st.limit[i] {
		case limParallel:
		case limUSDDay, limUSDMonth:
			c.Cost = max(tx.Cost, 0)
		case limPTPM:
			c.Cost = prompt - st.prompt
		default: // tpm, budgets
			c.Cost = total - st.prompt
		}
		if c.Kind == limits.Concurrency || c.Cost != 0 {
			adj = append(adj, c)
			if c.Cost > 0 && (st.limit[i] == limUSDDay || st.limit[i] == limUSDMonth) {
				usd = append(usd, budgetCharge{c: c, limit: st.limit[i], rule: st.rule[i], scope: st.scope[i]})
			}
		}
	}
	st.settle = nil
	if len(adj) == 0 {
		return
	}
	ctx := context.Background()
	if l.cfg.Backend == BackendRedis {
		// The client may be gone (tx.Ctx cancelled): settle regardless.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*l.cfg.RedisTimeout)
		defer cancel()
	}
	if err := l.backend.Settle(ctx, adj); err != nil {
		l.m.backendErrors.WithLabelValues("settle").Inc()
		l.log.Warn("ratelimit: could not settle token charges / release concurrency slots; slots expire after concurrency_lease",
			"request_id", tx.ID, "backend", l.cfg.Backend, "error", err.Error())
		return
	}
	if l.notify != nil && l.cfg.BudgetAlertPercent > 0 {
		for _, b := range usd {
			l.budgetAlert(ctx, tx, b)
		}
	}
}

// budgetCharge is a USD budget charged when a request ended.
type budgetCharge struct {
	c                  limits.Check
	limit, rule, scope string
}

// budgetAlert sends a budget.alert when the spend in b's window has
// reached budget_alert_percent of the budget, and another when it reached
// the budget: each once per budget and window, across replicas sharing
// the backend (a counter of limit 1 per threshold admits only the first).
func (l *Layer) budgetAlert(ctx context.Context, tx *engine.Tx, b budgetCharge) {
	read := []limits.Check{{Kind: limits.Counter, Key: b.c.Key, Limit: b.c.Limit, Expires: b.c.Expires}}
	sts := make([]limits.Status, 1)
	if _, err := l.backend.Admit(ctx, read, sts); err != nil {
		l.m.backendErrors.WithLabelValues("budget_alert").Inc()
		return
	}
	spent := b.c.Limit - sts[0].Remaining
	pct := l.cfg.BudgetAlertPercent
	if spent < b.c.Limit {
		if spent*100 < b.c.Limit*int64(pct) { // below the threshold (exact: limits < 2^50)
			return
		}
	} else {
		pct = 100
	}
	once := []limits.Check{{Kind: limits.Counter, Key: b.c.Key + "\x00alert" + strconv.Itoa(pct), Limit: 1, Cost: 1, Expires: b.c.Expires}}
	ok, err := l.backend.Admit(ctx, once, sts)
	if err != nil {
		l.m.backendErrors.WithLabelValues("budget_alert").Inc()
		return
	}
	if !ok {
		return // already sent for this window
	}
	window := b.c.Expires.Add(-time.Nanosecond).UTC().Format("2006-01-02")
	if b.limit == limUSDMonth {
		window = window[:7]
	}
	a := incident.BudgetAlert{Rule: b.rule, Limit: b.limit, Window: window, Percent: pct,
		SpentUSD: float64(spent) / pricing.NanosPerUSD, LimitUSD: float64(b.c.Limit) / pricing.NanosPerUSD}
	if id := tx.Identity; id != nil {
		a.Identity = incident.Subject{Scope: b.scope, Tenant: id.Tenant}
		switch b.scope {
		case ScopeKey:
			a.Identity.Value = id.KeyID
		case ScopeUser:
			a.Identity.Value = id.Subject
		case ScopeTenant:
			a.Identity.Value = id.Tenant
		}
	}
	l.notify.NotifyBudget(a)
}

// usage returns the prompt and total tokens to charge: the upstream's
// report where it has one (for a stream, the prompt tokens may come from an
// earlier event than the final usage), else the prompt counted exactly plus
// the counted (whole response) or estimated (stream: bytes/4) completion.
func (l *Layer) usage(tx *engine.Tx, st *txState) (prompt, total int64) {
	u := tx.Usage
	prompt = int64(u.PromptTokens)
	if prompt <= 0 {
		prompt = st.streamPrompt
	}
	if prompt <= 0 {
		// No usage from the upstream: count the prompt exactly rather
		// than keep the admission estimate (rare: OpenAI and Anthropic
		// report usage, and streams are asked for it).
		prompt = st.prompt
		if !st.exact && tx.Request != nil {
			prompt = promptTokens(tx.Request)
		}
	}
	completion := int64(u.CompletionTokens)
	if completion <= 0 && u.TotalTokens <= 0 {
		completion = st.counted
		if completion == 0 && st.streamBytes > 0 {
			completion = (st.streamBytes + bytesPerToken - 1) / bytesPerToken
		}
	}
	total = int64(u.TotalTokens)
	if total < prompt+completion {
		total = prompt + completion
	}
	return prompt, total
}
