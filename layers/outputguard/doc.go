// Package outputguard is rampart's output guardrail layer. On whole and
// streamed answers it redacts or flags secrets and personal data, removes
// Markdown images (and optionally links) that point to hosts not on an
// allowlist (a classic exfiltration channel), blocks answers that repeat
// the system prompt or contain the canary token planted by the canary
// layer, and enforces a tool-call policy (allowlists per tenant/role and
// argument validation against the declared JSON schema). On the request
// side the same recognisers can block, redact or pseudonymise personal
// data before it goes upstream; pseudonyms are restored in the answer for
// the same caller, also across stream events.
//
// Streaming: per choice the layer holds back at most stream_window bytes
// (default 256): the trailing tokens that may still grow into a match.
// Each event's text is appended to the held text, scanned together with
// the last 128 emitted bytes (for keywords and context), and everything
// that can no longer be part of a growing match is released, rewritten.
// OnStreamEnd releases the rest. See README.md for configuration.
package outputguard
