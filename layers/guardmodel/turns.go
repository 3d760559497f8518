package guardmodel

import (
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// requestTurns builds the conversation sent to the guard for a request:
// user (and tool/document) and assistant turns, newest last, at most
// MaxChars characters (older turns are dropped first; an over-long last
// turn keeps its beginning and its end). System text is the operator's and is not judged.
func (l *Layer) requestTurns(c *conv.Conversation) []turn {
	var turns []turn
	for mi := range c.Messages {
		m := &c.Messages[mi]
		switch m.Role {
		case conv.RoleSystem, conv.RoleDeveloper:
			continue
		}
		text := m.Text()
		if text == "" {
			continue
		}
		turns = append(turns, turn{agent: m.Role == conv.RoleAssistant, text: text})
	}
	// Llama Guard judges the last turn; a conversation ending with the
	// assistant is judged as Agent, which is not what input checking is
	// for: drop trailing assistant turns (prefill).
	for len(turns) > 0 && turns[len(turns)-1].agent {
		turns = turns[:len(turns)-1]
	}
	return l.bound(turns)
}

// outputTurns is the last user turn of the request followed by the answer.
func (l *Layer) outputTurns(tx *engine.Tx, answer string) []turn {
	var turns []turn
	if c := tx.Request; c != nil {
		for mi := len(c.Messages) - 1; mi >= 0; mi-- {
			if m := &c.Messages[mi]; m.Role == conv.RoleUser {
				if t := m.Text(); t != "" {
					turns = append(turns, turn{text: t})
				}
				break
			}
		}
	}
	turns = append(turns, turn{agent: true, text: answer})
	return l.bound(turns)
}

// bound keeps the newest turns within MaxChars code points.
func (l *Layer) bound(turns []turn) []turn {
	budget := l.cfg.MaxChars
	first := len(turns)
	for first > 0 {
		t := &turns[first-1]
		n := utf8.RuneCountInString(t.text)
		if n <= budget {
			budget -= n
			first--
			continue
		}
		if first == len(turns) { // the last turn alone is too long: keep both ends
			t.text = headTail(t.text, budget)
			first--
		}
		break
	}
	return turns[first:]
}

// headTail returns the first and last n/2 code points of s joined by an
// ellipsis line (s itself when it is short enough).
func headTail(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	h := n / 2
	i := 0
	for k := 0; k < h && i < len(s); k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	j := len(s)
	for k := 0; k < n-h && j > i; k++ {
		_, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
	}
	return s[:i] + "\n…\n" + s[j:]
}
