package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/limits"
	"github.com/rampart-ai/rampart/pricing"
)

// deny builds the 429 for the failed check i: code by limit kind, a reason
// naming the rule, limit and scope, and rate-limit headers.
func deny(i int, metas []checkMeta, sts []limits.Status, prompt int64) engine.Decision {
	m, st := metas[i], sts[i]
	r := m.r
	per := scopePhrase[r.scope]
	wait := st.RetryAfter
	if wait <= 0 {
		wait = st.Reset
	}
	var code, reason string
	switch m.limit {
	case limRPM:
		code = CodeRateLimit
		reason = fmt.Sprintf("rate limit exceeded: rule %q allows %d requests per minute (burst %d) %s; retry after %s",
			r.Name, r.RPM, r.Burst, per, secs(wait))
	case limTPM, limPTPM:
		code = CodeTokens
		what := "tokens"
		if m.limit == limPTPM {
			what = "prompt tokens"
		}
		if st.RetryAfter <= 0 {
			reason = fmt.Sprintf("token rate limit exceeded: this request counts about %d prompt tokens, more than rule %q allows per minute (%d %s %s); shorten the prompt",
				prompt, r.Name, m.value, what, per)
		} else {
			reason = fmt.Sprintf("token rate limit exceeded: rule %q allows %d %s per minute %s; this request counts about %d prompt tokens; retry after %s",
				r.Name, m.value, what, per, prompt, secs(wait))
		}
	case limParallel:
		code = CodeConcurrency
		reason = fmt.Sprintf("concurrency limit exceeded: rule %q allows %d requests in flight %s; retry when one finishes",
			r.Name, m.value, per)
	case limUSDDay, limUSDMonth:
		code = CodeBudget
		period := "day"
		if m.limit == limUSDMonth {
			period = "month"
		}
		reason = fmt.Sprintf("spend budget exceeded: rule %q allows $%s per calendar %s (UTC) %s, and it is used up; the budget resets in %s",
			r.Name, pricing.USD(m.value), period, per, secs(st.Reset))
	case limReqDay, limReqMonth:
		code = CodeBudget
		period := "day"
		if m.limit == limReqMonth {
			period = "month"
		}
		reason = fmt.Sprintf("request budget exceeded: rule %q allows %d requests per calendar %s (UTC) %s, and they are used up; the budget resets in %s",
			r.Name, m.value, period, per, secs(st.Reset))
	case limDay, limMonth:
		code = CodeBudget
		period := "day"
		if m.limit == limMonth {
			period = "month"
		}
		reason = fmt.Sprintf("token budget exceeded: rule %q allows %d tokens per calendar %s (UTC) %s; %d remain, this request counts about %d prompt tokens; the budget resets in %s",
			r.Name, m.value, period, per, st.Remaining, prompt, secs(st.Reset))
	}
	return engine.Decision{Action: engine.Block, Status: http.StatusTooManyRequests, Code: code, Reason: reason,
		Rule: r.Name, Headers: headers(i, metas, sts),
		Findings: []engine.Finding{finding(r, m.limit, engine.SeverityMedium, m.limit+" limit "+per+" exceeded")}}
}

// headers are Retry-After, the X-RateLimit-* trio for the limit that was
// hit, and OpenAI's x-ratelimit-*-requests / -tokens for the tightest
// request-rate and token-rate checks of the request.
func headers(i int, metas []checkMeta, sts []limits.Status) map[string]string {
	st := sts[i]
	wait := st.RetryAfter
	if wait <= 0 {
		wait = st.Reset
	}
	if l := metas[i].limit; l == limUSDDay || l == limUSDMonth {
		// A spend budget is not a count of requests or tokens: only when
		// to come back.
		h := map[string]string{"Retry-After": strconv.FormatInt(max(ceilSec(wait), 1), 10),
			"X-RateLimit-Reset": strconv.FormatInt(ceilSec(st.Reset), 10)}
		addOpenAIHeaders(h, metas, sts)
		return h
	}
	h := map[string]string{
		"Retry-After":           strconv.FormatInt(max(ceilSec(wait), 1), 10),
		"X-RateLimit-Limit":     strconv.FormatInt(metas[i].value, 10),
		"X-RateLimit-Remaining": strconv.FormatInt(max(st.Remaining, 0), 10),
		"X-RateLimit-Reset":     strconv.FormatInt(ceilSec(st.Reset), 10),
	}
	addOpenAIHeaders(h, metas, sts)
	return h
}

// successHeaders are OpenAI's x-ratelimit-*-requests / -tokens for an
// admitted request, which the engine adds to the successful answer. Only
// checks counted per caller (key, user, tenant, IP) are reported: the state
// of a route, model or global rule is shared by every tenant, and its
// remaining count would tell one client how busy the others are. Nil when
// no such request or token rate was checked.
func successHeaders(metas []checkMeta, sts []limits.Status) map[string]string {
	var own [8]checkMeta
	var ownSts [8]limits.Status
	m, st := own[:0], ownSts[:0]
	for j := range metas {
		switch metas[j].r.scope {
		case scKey, scUser, scTenant, scIP:
			switch metas[j].limit {
			case limRPM, limTPM, limPTPM:
				m, st = append(m, metas[j]), append(st, sts[j])
			}
		}
	}
	if len(m) == 0 {
		return nil
	}
	h := make(map[string]string, 6)
	addOpenAIHeaders(h, m, st)
	return h
}

// addOpenAIHeaders sets OpenAI's x-ratelimit-{limit,remaining,reset}-
// {requests,tokens} for the tightest request-rate and token-rate checks.
func addOpenAIHeaders(h map[string]string, metas []checkMeta, sts []limits.Status) {
	reqI, tokI := -1, -1
	for j := range metas {
		switch metas[j].limit {
		case limRPM:
			if reqI < 0 || sts[j].Remaining < sts[reqI].Remaining {
				reqI = j
			}
		case limTPM, limPTPM:
			if tokI < 0 || sts[j].Remaining < sts[tokI].Remaining {
				tokI = j
			}
		}
	}
	for k, j := range [2]int{reqI, tokI} {
		if j < 0 {
			continue
		}
		names := &openAIHeaderNames[k]
		h[names[0]] = strconv.FormatInt(metas[j].value, 10)
		h[names[1]] = strconv.FormatInt(max(sts[j].Remaining, 0), 10)
		h[names[2]] = sts[j].Reset.Round(time.Millisecond).String()
	}
}

// openAIHeaderNames are the limit, remaining and reset headers of the
// request limit and of the token limit.
var openAIHeaderNames = [2][3]string{
	{"x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"},
	{"x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"},
}

func ceilSec(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

func secs(d time.Duration) string { return strconv.FormatInt(max(ceilSec(d), 1), 10) + "s" }
