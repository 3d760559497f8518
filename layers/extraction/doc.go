// Package extraction is rampart's model-extraction detection layer (OWASP
// LLM10, unbounded consumption / model theft): it watches each identity's
// traffic over sliding windows and acts when it looks like someone is
// harvesting the model's answers — to clone it by distillation, or to map
// its behaviour systematically.
//
// Per identity (API key per tenant, else user per tenant, else client IP)
// the layer keeps fixed-size state: request counts in 60 buckets spanning
// the long window, and the signatures of the last History prompts (64-bit
// SimHash over word 2-shingles, and hashes of the prompt's skeleton,
// opening and frame; never text). From them it computes, on each request,
//
//   - volume: the request count relative to configured baselines
//     (short and long window), log-scaled into [0, 1];
//   - pattern: the share of recent prompts that are near-duplicates, exact
//     repeats or share a template opening, or that are part of a sweep
//     (differ from an earlier prompt only in numbers / single letters, or
//     fill a short slot in a fixed frame);
//   - diversity: the normalised entropy of the prompts' SimHash buckets;
//
// and the risk score = volume × min(1, w_v + w_p×pattern + w_d×diversity).
// Scores above the flag, tighten and block thresholds flag the request,
// hold the identity to a reduced request rate (GCRA from package limits;
// 429 model_extraction_rate_limited above it), or refuse it (403
// model_extraction_suspected); an identity keeps a level for its TTL.
//
// The analysed text is the last paragraph of the last user-typed segment,
// without a leading "Label:", so RAG applications that repeat a long
// context with different questions are judged on their questions. State is
// per replica, in memory, bounded by max_identities with LRU eviction. The
// module's default mode is monitor.
package extraction
