package inputpolicy

import (
	"fmt"
	"sort"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// partCategory maps provider part types to the categories operators name.
var partCategory = map[string]string{
	"image_url":   "image",
	"image":       "image",
	"input_image": "image",
	"input_audio": "audio",
	"audio":       "audio",
	"file":        "file",
	"input_file":  "file",
	"document":    "file",
}

// partAllowed reports whether part type t may be sent under p.
func (p *compiled) partAllowed(t string) bool {
	if p.parts == nil {
		return true
	}
	if p.parts[t] {
		return true
	}
	cat, ok := partCategory[t]
	return ok && p.parts[cat]
}

// checkShape enforces message and tool counts, tool definition size and
// allowed content part types.
func checkShape(p *compiled, c *conv.Conversation, v *verdict) {
	if p.MaxMessages > 0 && len(c.Messages) > p.MaxMessages {
		reason := fmt.Sprintf("The request has %d messages; the limit is %d.", len(c.Messages), p.MaxMessages)
		v.stop(p.OversizeStatus, CodeTooManyMessages, reason, engine.Finding{Rule: Name + ".max_messages", Message: -1})
		return
	}
	if p.MaxTools > 0 && len(c.Tools) > p.MaxTools {
		reason := fmt.Sprintf("The request declares %d tools; the limit is %d.", len(c.Tools), p.MaxTools)
		v.stop(p.OversizeStatus, CodeTooManyTools, reason, engine.Finding{Rule: Name + ".max_tools", Message: -1})
		return
	}
	if p.MaxToolBytes > 0 {
		n := 0
		for i := range c.Tools {
			t := &c.Tools[i]
			n += len(t.Name) + len(t.Description) + len(t.Parameters)
		}
		if n > p.MaxToolBytes {
			reason := fmt.Sprintf("The tool definitions total %d bytes; the limit is %d.", n, p.MaxToolBytes)
			v.stop(p.OversizeStatus, CodeToolsTooLarge, reason, engine.Finding{Rule: Name + ".max_tool_bytes", Message: -1})
			return
		}
	}
	if p.parts == nil {
		return
	}
	for mi := range c.Messages {
		m := &c.Messages[mi]
		if len(m.Parts) == 0 {
			continue
		}
		types := make([]string, 0, len(m.Parts))
		for t, n := range m.Parts {
			if n > 0 {
				types = append(types, t)
			}
		}
		sort.Strings(types) // deterministic reason
		for _, t := range types {
			if !p.partAllowed(t) {
				reason := fmt.Sprintf("Content of type %q is not allowed (message %d).", t, mi)
				v.stop(400, CodeContentType, reason, engine.Finding{Rule: Name + ".content_type", Message: mi, Entity: t})
				return
			}
		}
	}
}

// checkClientSystem applies client_system to client-sent system text.
func checkClientSystem(p *compiled, c *conv.Conversation, v *verdict) {
	if p.ClientSystem == ClientSystemAllow {
		return
	}
	first := -2
	systemSegments(c, func(msg int, s *conv.Segment) {
		if first == -2 && s.Text != "" {
			first = msg
		}
		if p.ClientSystem == ClientSystemStrip && s.Text != "" {
			s.Text = ""
			v.modified = true
		}
	})
	if first == -2 {
		return
	}
	if p.ClientSystem == ClientSystemBlock {
		v.stop(400, CodeRoleNotAllowed, "System and developer messages are not allowed for this API key.",
			engine.Finding{Rule: Name + ".client_system", Message: first})
		return
	}
	v.add(engine.Finding{Rule: Name + ".client_system", Severity: engine.SeverityLow, Message: first,
		Text: "client system text removed"})
}

// applySystemPrompt writes the tenant's system prompt into the first system
// segment (see the package comment for why it never adds a message).
func applySystemPrompt(p *compiled, c *conv.Conversation, v *verdict) {
	if p.SystemPrompt == "" {
		return
	}
	var first *conv.Segment
	firstMsg := 0
	systemSegments(c, func(msg int, s *conv.Segment) {
		if first == nil {
			first, firstMsg = s, msg
			return
		}
		if p.SystemPromptMode == SystemReplace && s.Text != "" {
			s.Text = ""
		}
	})
	if first == nil {
		f := engine.Finding{Rule: Name + ".system_prompt_missing", Severity: engine.SeverityMedium, Message: -1,
			Text: "no system segment to carry the tenant system prompt"}
		if p.SystemPromptMissing == ActionBlock {
			v.stop(400, CodeSystemRequired, "This API key requires a system message (it may be empty): "+
				"the gateway puts the tenant's system prompt there.", f)
			return
		}
		v.add(f)
		return
	}
	switch {
	case p.SystemPromptMode == SystemReplace || first.Text == "":
		first.Text = p.SystemPrompt
	default:
		first.Text = p.SystemPrompt + "\n\n" + first.Text
	}
	v.modified = true
	v.add(engine.Finding{Rule: Name + ".system_prompt", Severity: engine.SeverityLow, Message: firstMsg,
		Text: "tenant system prompt applied (" + p.SystemPromptMode + ")"})
}
