// Package canary is rampart's one canary-token package: the layer that
// plants a canary token in the system prompt, and the token API (NewToken,
// Valid, Set, Get) that layers/outputguard uses to find it in answers. The
// token is a random, per-request marker (NewToken: "rk-canary-<16 hex>", 64 bits
// from crypto/rand) inside an instruction never to reveal it. If the model's answer contains the token,
// the system prompt has leaked — typically through a prompt-injection or
// prompt-extraction attack.
//
// The two halves:
//
//   - this layer (request side) writes the instruction at the end (or, with
//     position: start, the start) of the first system segment and
//     records the token with
//     Set(tx, token), i.e. tx.SetState(StateKey, token) as a plain string;
//   - layers/outputguard (response and stream side) reads it with Get and
//     blocks (default), redacts or flags any answer that contains it, as
//     its `canary` option says.
//
// A request without a system segment has no system prompt to leak, so no
// canary is planted (the conversation contract lets layers change segment
// text but not add messages) and the output side has nothing to check.
//
// Off by default: the extra instruction costs a few prompt tokens per
// request.
package canary
