// Package ratelimit is rampart's abuse-control layer: request rates (GCRA),
// token rates, concurrent requests, daily and monthly token budgets, prompt
// size and max_tokens caps, each counted per API key, user, tenant, client
// IP, route, model or globally, as configured in policy rules.
//
// In the request phase the layer estimates the prompt's tokens
// (detect/tokens.Estimate; counted exactly only for a max_prompt_tokens cap
// the prompt's bytes exceed) when a rule needs them, then admits the request against every applicable
// limit in one backend call, all or nothing. A refusal is a Block with
// status 429 and code rate_limit_exceeded, tokens_per_minute_exceeded,
// concurrency_limit_exceeded or budget_exceeded, a reason naming the rule,
// limit and scope, and Retry-After / X-RateLimit-* / x-ratelimit-* headers.
// An admitted request's answer gets OpenAI's x-ratelimit-* headers. A
// max_tokens cap refuses (400), clamps (the adapter rewrites the request's
// max_tokens) or flags; a default max_tokens is set on requests without one.
// For a stream whose client did not ask for usage the layer asks the
// upstream for it (Conversation.WantUsage) and drops the extra usage-only
// event (StreamEvent.Drop). In the finish phase (which always runs) it
// releases concurrency slots and corrects token charges with the upstream's
// reported usage.
//
// Per-key overrides come from engine.Identity.Limits (keys rpm, burst, tpm,
// prompt_tpm, max_parallel, budget_day, budget_month, max_prompt_tokens,
// max_tokens) and take precedence over the policy's key-scoped rules.
//
// State lives in package limits: in memory (default, per replica, bounded)
// or in Redis (shared by replicas). A backend failure is returned as an
// error, so the layer's failure mode decides (closed by default: 503).
package ratelimit
