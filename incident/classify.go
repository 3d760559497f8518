package incident

import "github.com/rampart-ai/rampart/engine"

// Layer names that Classify knows (the chain's modules; see layers/chain.go).
const (
	layerIdentity    = "identity"
	layerRatelimit   = "ratelimit"
	layerInjection   = "injection"
	layerEscalation  = "escalation"
	layerInputPolicy = "inputpolicy"
	layerTopics      = "topics"
	layerGuardModel  = "guardmodel"
	layerOutputGuard = "outputguard"
	layerExtraction  = "extraction"
	layerBlocklist   = "blocklist"
	layerNetwork     = "network"
	layerMCP         = "mcp"
)

// Classify maps one layer outcome to a violation kind, or "" when the
// outcome is not a violation: allows, modifications (redaction is normal
// operation), internal layer errors (not the caller's doing), and the
// refusals of the blocklist and network layers (standing blocks and
// address lists, which must not feed back into scores).
// Monitor-mode outcomes count only when countMonitor is set.
func Classify(o *engine.Outcome, countMonitor bool) string {
	if o.Error != "" || o.Code == engine.CodeLayerUnavailable || (o.Monitor && !countMonitor) {
		return ""
	}
	block := o.Action == engine.Block.String()
	flag := o.Action == engine.Flag.String()
	if !block && !flag {
		return ""
	}
	switch o.Layer {
	case layerBlocklist, layerNetwork:
		return ""
	case layerIdentity:
		if !block {
			return ""
		}
		switch o.Code {
		case "invalid_api_key", "too_many_auth_failures":
			return KindAuthFailure
		case "identity_unavailable":
			return ""
		}
		return KindForbidden
	case layerRatelimit:
		if block {
			return KindLimitHit
		}
	case layerInjection, layerEscalation:
		if block {
			return KindInjectionBlock
		}
		return KindInjectionFlag
	case layerInputPolicy, layerTopics, layerGuardModel:
		if block {
			return KindContentBlock
		}
	case layerOutputGuard:
		if block {
			return KindLeak
		}
	case layerMCP:
		// What the client sends (a call with a secret, to a tool it may
		// not use) is the caller's doing; what the MCP server answers (a
		// poisoned list, an injected result) is not, and must not feed
		// back into the caller's score.
		if block && o.Phase == engine.PhaseRequest {
			return KindOtherBlock
		}
		return ""
	case layerExtraction:
		if block {
			return KindExtractionBlock
		}
		return KindExtractionFlag
	default:
		if block {
			return KindOtherBlock
		}
	}
	return ""
}
