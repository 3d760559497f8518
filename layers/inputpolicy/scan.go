package inputpolicy

import (
	"fmt"

	"github.com/rampart-ai/rampart/engine"
)

// ScanLimits returns the view of the layer that POST /v1/scan passes: the
// same size limits as the model routes for the caller's policy —
// max_messages (each scan item is a message), max_chars,
// max_message_chars and max_tokens — so that one scan call costs no more
// than one model request may. Over a limit the call is refused with the
// same codes; on_oversize "truncate" does not apply (the scan answers
// the text it was given, so it cannot be cut) and the shape, role and
// system-prompt rules are not run (they concern what is sent to a model).
func (l *Layer) ScanLimits() engine.Layer { return scanLimits{l} }

type scanLimits struct{ l *Layer }

func (s scanLimits) Name() string { return Name }

func (s scanLimits) OnRequest(tx *engine.Tx) (engine.Decision, error) {
	c := tx.Request
	if c == nil {
		return engine.Allowed, nil
	}
	p := *s.l.policyFor(tx)
	p.OnOversize = OversizeBlock
	var v verdict
	if p.MaxMessages > 0 && len(c.Messages) > p.MaxMessages {
		reason := fmt.Sprintf("The request has %d items; the limit is %d.", len(c.Messages), p.MaxMessages)
		v.stop(p.OversizeStatus, CodeTooManyMessages, reason, engine.Finding{Rule: Name + ".max_messages", Message: -1})
		return v.decision(), nil
	}
	checkSize(&p, c, &v)
	return v.decision(), nil
}
