// Package canary plants a canary token in the system prompt: a random,
// per-request marker (package canary's New, "rk-canary-<16 hex>") inside an
// instruction never to reveal it. If the model's answer contains the token,
// the system prompt has leaked — typically through a prompt-injection or
// prompt-extraction attack.
//
// The two halves:
//
//   - this layer (request side) writes the instruction into the first
//     system segment and records the token with canary.Set(tx, token),
//     i.e. tx.SetState("canary", token) as a plain string;
//   - layers/outputguard (response and stream side) reads it with
//     canary.Get (or tx.State("canary")) and blocks, redacts or flags any
//     answer that contains it.
//
// A request without a system segment has no system prompt to leak, so no
// canary is planted (the conversation contract lets layers change segment
// text but not add messages) and the output side has nothing to check.
//
// Off by default: the extra instruction costs a few prompt tokens per
// request.
package canary
