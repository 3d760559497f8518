package inputpolicy

import (
	"fmt"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/tokens"
	"github.com/rampart-ai/rampart/engine"
)

// tokensPerMessage is the chat framing OpenAI adds per message (and once
// for the reply), as in OpenAI's token-counting guide.
const tokensPerMessage = 3

// maxTruncateRounds bounds the count-and-cut loop of token truncation.
const maxTruncateRounds = 6

// sizes are the character counts of a conversation.
type sizes struct {
	total   int
	perMsg  []int // per message (code points)
	sysOnly int   // top-level system prompt
	bytes   int
}

func measure(c *conv.Conversation) sizes { return measureWith(c, utf8.RuneCountInString) }

// byteLen is the unit measureWith uses for measureBytes.
func byteLen(s string) int { return len(s) }

// measureBytes is measure in bytes, an upper bound of every character
// count (a code point is at least one byte) that costs no pass over the
// text.
func measureBytes(c *conv.Conversation) sizes { return measureWith(c, byteLen) }

func measureWith(c *conv.Conversation, length func(string) int) sizes {
	s := sizes{perMsg: make([]int, len(c.Messages))}
	c.EachSegment(func(mi int, _ conv.Role, seg *conv.Segment) {
		n := length(seg.Text)
		s.total += n
		s.bytes += len(seg.Text)
		if mi >= 0 {
			s.perMsg[mi] += n
		} else {
			s.sysOnly += n
		}
	})
	return s
}

func countTokens(c *conv.Conversation) int {
	n := tokensPerMessage * (len(c.Messages) + 1)
	c.EachSegment(func(_ int, _ conv.Role, seg *conv.Segment) {
		n += tokens.Count(c.Model, seg.Text)
	})
	return n
}

// tokenBound is a free upper bound of countTokens (every token covers at
// least one byte).
func tokenBound(c *conv.Conversation, s sizes) int {
	return s.bytes + tokensPerMessage*(len(c.Messages)+1)
}

// checkSize enforces max_chars, max_message_chars and max_tokens, blocking
// or truncating the last user message per on_oversize.
func checkSize(p *compiled, c *conv.Conversation, v *verdict) {
	s := measureBytes(c)
	if overChars(p, s) != nil { // the byte bound exceeds a limit: count code points
		s = measure(c)
	}
	over := overChars(p, s)
	tokOver := false
	ntok := 0
	if over == nil && p.MaxTokens > 0 && tokenBound(c, s) > p.MaxTokens {
		ntok = countTokens(c)
		tokOver = ntok > p.MaxTokens
	}
	if over == nil && !tokOver {
		return
	}
	if p.OnOversize == OversizeTruncate && truncate(p, c, v) {
		return
	}
	if over != nil {
		v.stop(p.OversizeStatus, over.code, over.reason, over.finding)
		return
	}
	reason := fmt.Sprintf("The request has %d tokens; the limit is %d tokens.", ntok, p.MaxTokens)
	v.stop(p.OversizeStatus, CodeContextLength, reason,
		engine.Finding{Rule: Name + ".max_tokens", Message: -1, Score: float64(ntok)})
}

type overage struct {
	code, reason string
	finding      engine.Finding
}

// overChars returns the first character limit s exceeds, or nil.
func overChars(p *compiled, s sizes) *overage {
	if p.MaxChars > 0 && s.total > p.MaxChars {
		return &overage{CodeContextLength,
			fmt.Sprintf("The request has %d characters; the limit is %d characters.", s.total, p.MaxChars),
			engine.Finding{Rule: Name + ".max_chars", Message: -1, Score: float64(s.total)}}
	}
	if p.MaxMessageChars > 0 {
		if s.sysOnly > p.MaxMessageChars {
			return &overage{CodeMessageTooLarge,
				fmt.Sprintf("The system prompt has %d characters; the limit per message is %d.", s.sysOnly, p.MaxMessageChars),
				engine.Finding{Rule: Name + ".max_message_chars", Message: -1, Score: float64(s.sysOnly)}}
		}
		for mi, n := range s.perMsg {
			if n > p.MaxMessageChars {
				return &overage{CodeMessageTooLarge,
					fmt.Sprintf("Message %d has %d characters; the limit per message is %d.", mi, n, p.MaxMessageChars),
					engine.Finding{Rule: Name + ".max_message_chars", Message: mi, Score: float64(n)}}
			}
		}
	}
	return nil
}

// truncate cuts the end of the last user message until the request meets
// every size limit. It reports false (and changes nothing) when that is
// impossible.
func truncate(p *compiled, c *conv.Conversation, v *verdict) bool {
	last := -1
	for mi := len(c.Messages) - 1; mi >= 0; mi-- {
		if c.Messages[mi].Role == conv.RoleUser {
			last = mi
			break
		}
	}
	if last < 0 {
		return false
	}
	m := &c.Messages[last]
	snap := make([]string, len(m.Segments))
	for i := range m.Segments {
		snap[i] = m.Segments[i].Text
	}
	restore := func() bool {
		for i := range m.Segments {
			m.Segments[i].Text = snap[i]
		}
		return false
	}
	s := measure(c)
	cut := 0
	if p.MaxChars > 0 && s.total > p.MaxChars {
		cut = s.total - p.MaxChars
	}
	if p.MaxMessageChars > 0 && s.perMsg[last] > p.MaxMessageChars {
		cut = max(cut, s.perMsg[last]-p.MaxMessageChars)
	}
	if cut > s.perMsg[last] || !cutTail(m, cut) {
		return restore()
	}
	s = measure(c)
	if overChars(p, s) != nil { // another message is over its own limit
		return restore()
	}
	if p.MaxTokens > 0 && tokenBound(c, s) > p.MaxTokens {
		for round := 0; ; round++ {
			n := countTokens(c)
			if n <= p.MaxTokens {
				break
			}
			if round == maxTruncateRounds {
				return restore()
			}
			chars := measure(c).perMsg[last]
			msgTok := max(1, tokensOf(c.Model, m))
			excess := n - p.MaxTokens
			// Cut proportionally to the message's characters per token,
			// with a margin so that the loop converges in few rounds.
			more := excess*chars/msgTok + excess/8 + 8
			if more > chars || !cutTail(m, more) {
				return restore()
			}
		}
	}
	v.modified = true
	v.add(engine.Finding{Rule: Name + ".truncated", Severity: engine.SeverityLow, Message: last,
		Text: "last user message truncated to fit the size limits"})
	return true
}

func tokensOf(model string, m *conv.Message) int {
	n := 0
	for i := range m.Segments {
		n += tokens.Count(model, m.Segments[i].Text)
	}
	return n
}

// cutTail removes n code points from the end of m's text, last segment
// first. It reports false when m has fewer than n code points.
func cutTail(m *conv.Message, n int) bool {
	for si := len(m.Segments) - 1; si >= 0 && n > 0; si-- {
		seg := &m.Segments[si]
		rc := utf8.RuneCountInString(seg.Text)
		if rc <= n {
			seg.Text = ""
			n -= rc
			continue
		}
		i := len(seg.Text)
		for ; n > 0; n-- {
			_, size := utf8.DecodeLastRuneInString(seg.Text[:i])
			i -= size
		}
		seg.Text = seg.Text[:i]
	}
	return n == 0
}
