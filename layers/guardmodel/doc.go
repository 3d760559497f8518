// Package guardmodel asks an external Llama Guard-style safety classifier,
// served behind any OpenAI-compatible API (vLLM, Ollama, ...), whether a
// request or an answer is unsafe, and blocks or flags it by hazard category
// (Llama Guard 3's S1–S14 by default).
//
// It is optional and off by default. Calls are bounded by a timeout and a
// concurrency cap, verdicts are cached by content hash for a short time,
// and every failure (timeout, 5xx, malformed answer, over the cap) ends in
// the layer's own failure mode: closed (503 guard_unavailable, the
// default) or open. See README.md.
package guardmodel
