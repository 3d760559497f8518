package ratelimit

import (
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/tokens"
)

// Chat framing overhead per message and for the reply, as in OpenAI's
// published counting recipe (cl100k/o200k chat models). For other
// providers the count is an estimate; the upstream's reported usage
// corrects the charge when the answer ends.
const (
	perMessageTokens = 3
	replyTokens      = 3
)

// promptBytes is an upper bound of the prompt's token count (every token is
// at least one byte) plus framing, computed without tokenizing.
func promptBytes(c *conv.Conversation) int64 {
	var n int64
	c.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) { n += int64(len(s.Text)) })
	for i := range c.Tools {
		t := &c.Tools[i]
		n += int64(len(t.Name) + len(t.Description) + len(t.Parameters))
	}
	for i := range c.Messages {
		n += int64(len(c.Messages[i].Name)) + perMessageTokens
		for j := range c.Messages[i].ToolCalls {
			tc := &c.Messages[i].ToolCalls[j]
			n += int64(len(tc.Name) + len(tc.Arguments))
		}
	}
	if len(c.System) > 0 {
		n += perMessageTokens
	}
	return n + replyTokens
}

// promptTokens counts the prompt's tokens with the model's tokenizer
// (detect/tokens): every segment, tool declaration and earlier tool call,
// plus chat framing. It costs about 150 µs per KB of text, so it runs only
// where a figure must be exact: a max_prompt_tokens cap the prompt's byte
// length exceeds, and the settlement of a request whose upstream reported
// no usage.
func promptTokens(c *conv.Conversation) int64 { return promptCount(c, tokens.Count) }

// promptEstimate estimates the prompt's tokens (tokens.Estimate, one pass
// over the bytes) as promptTokens would count them. Admission charges the
// estimate; OnFinish corrects it with the upstream's usage (or an exact
// count when the upstream reports none). docs/PERFORMANCE.md gives the
// estimate's error.
func promptEstimate(c *conv.Conversation) int64 { return promptCount(c, tokens.Estimate) }

func promptCount(c *conv.Conversation, count func(model, text string) int) int64 {
	model := c.Model
	var n int64
	c.EachSegment(func(_ int, _ conv.Role, s *conv.Segment) { n += int64(count(model, s.Text)) })
	for i := range c.Tools {
		t := &c.Tools[i]
		n += int64(count(model, t.Name) + count(model, t.Description) +
			count(model, string(t.Parameters)))
	}
	if c.Kind != conv.KindChat && c.Kind != conv.KindResponses {
		return n
	}
	for i := range c.Messages {
		m := &c.Messages[i]
		n += perMessageTokens
		if m.Name != "" {
			n += int64(count(model, m.Name))
		}
		for j := range m.ToolCalls {
			n += int64(count(model, m.ToolCalls[j].Name) + count(model, m.ToolCalls[j].Arguments))
		}
	}
	if len(c.System) > 0 {
		n += perMessageTokens
	}
	return n + replyTokens
}

// responseTokens counts a whole response's answer text (used only when the
// upstream reported no usage).
func responseTokens(model string, r *conv.Response) int64 {
	var n int64
	for i := range r.Choices {
		m := &r.Choices[i].Message
		for j := range m.Segments {
			n += int64(tokens.Count(model, m.Segments[j].Text))
		}
		for j := range m.ToolCalls {
			n += int64(tokens.Count(model, m.ToolCalls[j].Arguments))
		}
	}
	return n
}

// bytesPerToken converts streamed answer bytes to an estimated token count
// when the upstream reports no usage (a stream whose client did not ask for
// it): about 4 bytes per token for English text with OpenAI's tokenizers.
const bytesPerToken = 4
