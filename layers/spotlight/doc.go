// Package spotlight marks untrusted content — segments whose source is a
// document or a tool result — so that the model can tell data from
// instructions (Hines et al., "Defending Against Indirect Prompt Injection
// Attacks With Spotlighting", 2024).
//
// Two methods:
//
//   - delimit (default): each untrusted segment is wrapped in
//     <<UNTRUSTED_id>> … <<END_UNTRUSTED_id>>, where id is 16 hex digits
//     from crypto/rand, new for every request, so injected text cannot
//     close the block early;
//   - datamark: every space in untrusted text is replaced by a marker
//     character (default U+02C6 "ˆ"), so that the marked text reads as one
//     continuous token stream the model is told never to obey.
//
// The matching instruction is appended to the first system segment. The
// conversation contract lets layers change segment text but not add
// messages, so when a request has no system segment the instruction is
// prepended to the first user segment instead (instruction_fallback), or
// dropped ("none"). The boundary and method are stored in the transaction
// (tx.State "spotlight.boundary", "spotlight.mode") for the output side.
package spotlight
