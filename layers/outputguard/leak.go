package outputguard

import (
	"hash/maphash"
	"unicode"
	"unicode/utf8"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
)

// ngram is the word n-gram size used for system-prompt containment.
const ngram = 8

// maxLeakGrams bounds the n-grams kept per request.
const maxLeakGrams = 1 << 16

var seed = maphash.MakeSeed()

// leakIndex holds the word 8-grams of a request's system prompt and, while
// an answer streams, which of them the answer has repeated so far.
type leakIndex struct {
	grams     map[uint64]bool // gram -> seen in answer
	seen      int
	threshold float64
	fired     bool
	// streaming state: the last ngram-1 word hashes of the answer and the
	// word being read.
	window []uint64
	word   []byte
}

// newLeakIndex returns nil when the request has no system prompt of at
// least cfg.MinWords words.
func newLeakIndex(c *conv.Conversation, cfg LeakConfig) *leakIndex {
	var words []uint64
	add := func(text string) {
		forWords(text, func(w []byte) bool {
			words = append(words, maphash.Bytes(seed, w))
			return len(words) < maxLeakGrams
		})
	}
	for i := range c.System {
		add(c.System[i].Text)
	}
	for i := range c.Messages {
		m := &c.Messages[i]
		if m.Role == conv.RoleSystem || m.Role == conv.RoleDeveloper {
			for j := range m.Segments {
				add(m.Segments[j].Text)
			}
		}
	}
	if len(words) < cfg.MinWords || len(words) < ngram {
		return nil
	}
	lk := &leakIndex{grams: make(map[uint64]bool, len(words)), threshold: cfg.Threshold}
	for i := 0; i+ngram <= len(words); i++ {
		lk.grams[gramHash(words[i:i+ngram])] = false
	}
	return lk
}

func gramHash(ws []uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, w := range ws {
		h ^= w
		h *= 1099511628211
	}
	return h
}

// forWords calls fn with each lower-cased word (letters and digits) of text.
func forWords(text string, fn func(w []byte) bool) {
	var buf [64]byte
	w := buf[:0]
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if len(w) < 60 {
				w = utf8.AppendRune(w, unicode.ToLower(r))
			}
			continue
		}
		if len(w) > 0 {
			if !fn(w) {
				return
			}
			w = w[:0]
		}
	}
	if len(w) > 0 {
		fn(w)
	}
}

// feed adds answer text (streamed or whole) and reports whether the share
// of system-prompt n-grams seen reached the threshold (once).
func (lk *leakIndex) feed(text string, final bool) bool {
	push := func(w []byte) {
		lk.window = append(lk.window, maphash.Bytes(seed, w))
		if len(lk.window) > ngram {
			lk.window = lk.window[1:]
		}
		if len(lk.window) == ngram {
			h := gramHash(lk.window)
			if seen, ok := lk.grams[h]; ok && !seen {
				lk.grams[h] = true
				lk.seen++
			}
		}
	}
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if len(lk.word) < 60 {
				lk.word = utf8.AppendRune(lk.word, unicode.ToLower(r))
			}
			continue
		}
		if len(lk.word) > 0 {
			push(lk.word)
			lk.word = lk.word[:0]
		}
	}
	if final && len(lk.word) > 0 {
		push(lk.word)
		lk.word = lk.word[:0]
	}
	if lk.fired || len(lk.grams) == 0 {
		return false
	}
	if float64(lk.seen)/float64(len(lk.grams)) >= lk.threshold {
		lk.fired = true
		return true
	}
	return false
}

// check feeds a whole answer text and returns a finding when it leaks.
func (lk *leakIndex) check(text string, choice int) (engine.Finding, bool) {
	if !lk.feed(text, true) {
		return engine.Finding{}, false
	}
	return lk.finding(choice), true
}

func (lk *leakIndex) finding(choice int) engine.Finding {
	return engine.Finding{Layer: Name, Rule: "leak.system_prompt", Severity: engine.SeverityHigh,
		Score: float64(lk.seen) / float64(len(lk.grams)), Message: choice, Entity: "SYSTEM_PROMPT",
		Text: "answer repeats the system prompt"}
}
