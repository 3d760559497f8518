// Package layers states the order of rampart's security chain. This file is
// the single place that order lives (like CoreDNS's plugin.cfg).
//
// Requests pass the layers top to bottom in the request phase; whole
// responses and every stream event pass them in the same order; every
// layer's finish phase runs last, also after a block, an upstream failure
// or a panic. A layer that blocks stops the phase: later layers do not see
// the request, which is why the cheap, decisive checks come first. The
// numbers are the defense-in-depth layers of docs/THREAT_MODEL.md (layer 1,
// the network, is the network layer's IP lists plus the gateway server's
// TLS, connection caps and timeouts; layer 7, monitoring, is the
// engine's audit record and metrics around every layer).
package layers

import (
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/layers/blocklist"
	"github.com/rampart-ai/rampart/layers/canary"
	"github.com/rampart-ai/rampart/layers/escalation"
	"github.com/rampart-ai/rampart/layers/extraction"
	"github.com/rampart-ai/rampart/layers/guardmodel"
	"github.com/rampart-ai/rampart/layers/identity"
	"github.com/rampart-ai/rampart/layers/injection"
	"github.com/rampart-ai/rampart/layers/inputpolicy"
	"github.com/rampart-ai/rampart/layers/network"
	"github.com/rampart-ai/rampart/layers/outputguard"
	"github.com/rampart-ai/rampart/layers/ratelimit"
	"github.com/rampart-ai/rampart/layers/spotlight"
	"github.com/rampart-ai/rampart/layers/topics"
)

// Chain is the ordered list of layer modules.
var Chain = []engine.Module{
	// 1. Network: IP allow/deny lists (CIDR) on the client address the
	// server resolved with its trusted proxies. First, before any
	// credential is looked at: refused networks cost one table lookup.
	// (The rest of layer 1 — TLS, connection caps, timeouts, size limits,
	// security headers, CORS — is the gateway server, packages netguard
	// and tlsserve.)
	network.Module,

	// 2. Identity: who is calling, may they use this route and model.
	// First, so nothing else spends work on anonymous traffic and every
	// later layer (and the audit record) knows the tenant and key.
	identity.Module,

	// 2. Blocks and throttles from incident response (layer 7's response
	// side, package incident) and from administrators
	// (per key, user, address or network; shared by every replica through
	// the store). Right after identity, which it needs for key and user
	// blocks, and before the body is read, so a blocked caller costs a
	// map lookup and nothing more.
	blocklist.Module,

	// 3. Abuse control: request, token, concurrency and budget limits per
	// key, user, tenant, IP, route and model. Needs the identity; before
	// any content inspection so floods are refused cheaply.
	ratelimit.Module,

	// 3. Model-extraction detection (OWASP LLM10; monitor by default):
	// per-identity volume, templated/near-duplicate share, sweeps and
	// diversity over sliding windows -> flag, tightened rate, block.
	// After ratelimit, so requests refused by plain limits are not counted
	// (and floods stay cheap); before inputpolicy and every rewriting
	// layer, so it hashes the user's text as sent, and so an identity it
	// refuses costs no content inspection.
	extraction.Module,

	// 4. Input validation: sizes, token counts, message counts, content
	// types, role rules (client system messages, tenant system prompt),
	// fake role markers. Cheap and decisive; it may rewrite the system
	// prompt, which spotlight and canary later append to.
	inputpolicy.Module,

	// 4. Topic rails and banned terms, on the normalised text.
	topics.Module,

	// 5. Guardrails: prompt injection and jailbreaks in user text, and
	// indirect injection in documents and tool output. Before any layer
	// rewrites the text, so it scans what the client sent.
	injection.Module,

	// 5. Escalation (off by default): segments the injection detector
	// scores in an uncertain band, and did not flag, go to an external
	// classifier (Prompt Guard 2 behind text-embeddings-inference, KServe,
	// or a chat judge). Right after the detector: flagged requests were
	// blocked already and never cost a call.
	escalation.Module,

	// 5. External Llama Guard-style model (off by default): content safety
	// categories, on input and output. After the in-process detectors, so
	// requests they block never cost a model call.
	guardmodel.Module,

	// 5. Spotlighting: delimit or datamark untrusted content and tell the
	// model so in the system prompt. After the detectors (they must see the
	// original text), before the canary (both append to the system prompt).
	spotlight.Module,

	// 5. Canary tokens (off by default): plant a per-request canary in the
	// system prompt; outputguard blocks answers that contain it.
	canary.Module,

	// 6. Output sanitisation: PII and secrets (also input-side
	// pseudonymisation, the last rewrite before upstream), exfiltration
	// links, system-prompt leaks, canaries, tool-call policy on whole and
	// streamed answers.
	outputguard.Module,
}
