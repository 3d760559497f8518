// Package escalation is rampart's optional escalation of uncertain
// injection verdicts to an external classifier the operator runs (Meta
// Prompt Guard 2 or any sequence classifier behind Hugging Face
// text-embeddings-inference /predict, a KServe v2 inference endpoint, or an
// OpenAI-compatible chat model with a judge prompt). Off by default.
//
// Every user text, document and tool result is scored by the local
// detector (package detect, microseconds); only segments whose calibrated
// score falls between two configured bounds, and that the local detector
// did not flag, are sent out. The call has a timeout, a circuit breaker and
// a bounded concurrency; verdicts are cached by an HMAC of the text under a
// per-process key. A failed call is an internal error of the layer, so the
// layer's failure mode (closed by default: 503; open: recorded and passed)
// decides. Verdicts and latencies go to the audit record (findings) and to
// Prometheus metrics.
package escalation
