// Package incident is rampart's automatic incident response (the
// monitoring and response part of layer 7).
//
// A Responder is an engine.Recorder next to the audit log: for every
// finished transaction it classifies the layer outcomes (Classify) into
// violation kinds — auth failures, blocked or flagged injections, limit
// hits, content blocks, output leaks, extraction flags — and, if there are
// any, copies the kinds and the caller's identity (tenant, key id, user,
// client address; never content) into a bounded queue. The request path
// never waits: a full queue drops the violation and counts it.
//
// One worker owns the scores (Scores): by default a Scorer, a decaying
// score per identity (it halves every half_life) in a bounded LRU map of
// this replica, with points per kind from the policy's severities; with
// backend redis a RedisScorer, the same arithmetic in one Lua script per
// violation on a Redis shared by every replica (server clock, cooldowns in
// Redis, keys expiring once a score has decayed away), falling back to the
// memory Scorer while Redis fails. When an identity's score reaches a threshold, the threshold's
// action runs once per cooldown: block the key, user or address for a TTL,
// throttle it to a lower request rate, or only alert. Blocks and throttles
// go to the shared block store (every replica enforces them through
// layers/blocklist); every automatic action is written to the audit log
// with its reason (route "incident") and sent to the configured webhooks
// as JSON signed with HMAC-SHA256 (see Sign and Verify), retried with
// exponential backoff and jitter from a bounded queue per webhook.
package incident
