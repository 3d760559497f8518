// Package limits holds rampart's rate-limiting algorithms and the backends
// that keep their state: an in-process memory backend (the default) and a
// Redis backend shared by several gateway replicas.
//
// Three kinds of check cover every limit the ratelimit layer offers:
//
//   - Rate is GCRA (the generic cell rate algorithm, a token bucket kept as
//     one timestamp per key): Interval is the time one unit of cost earns
//     back, Capacity the most units admitted at once. Requests per minute
//     use cost 1; tokens per minute use the token count as cost. Over any
//     window of length Limit×Interval at most Limit+Capacity units pass.
//   - Concurrency counts in-flight holders up to Limit (acquire at admit,
//     release with Settle).
//   - Counter is a fixed-window sum (daily/monthly token budgets): the key
//     names the window, Expires ends it.
//
// A request's checks are admitted all or nothing (Backend.Admit): if any
// check fails, none is charged. Settle applies charges that are only known
// later (completion tokens, refunds) without denying, and releases
// concurrency slots. The Redis backend does each in one round trip (one Lua
// script for all of a request's keys) and takes the time from the Redis
// server, so replicas with skewed clocks still share one schedule.
package limits
