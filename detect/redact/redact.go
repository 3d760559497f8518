// Package redact rewrites sensitive spans found by the detectors: redact
// (a "[ENTITY]" label), mask (keep the last characters), keyed hash
// (HMAC-SHA256, truncated), and reversible pseudonymisation with stable
// placeholders ("<EMAIL_ADDRESS_1>") that a Vault restores later, also
// across stream chunks.
//
// Overlapping spans are resolved deterministically by Resolve: the longer
// span wins, then the higher score, then the smaller entity name.
package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"unicode/utf8"
)

// Span is a sensitive range of text (byte offsets).
type Span struct {
	Entity     string
	Start, End int
	Score      float64
}

// Resolve returns non-overlapping spans in text order. Among overlapping
// spans the longest wins, then the highest score, then the entity name
// that sorts first; the result does not depend on the input order.
// Spans outside [0, n) or empty are dropped; spans are widened so that
// they never split a UTF-8 sequence of text.
func Resolve(text string, spans []Span) []Span {
	c := make([]Span, 0, len(spans))
	for _, s := range spans {
		if s.Start < 0 {
			s.Start = 0
		}
		if s.End > len(text) {
			s.End = len(text)
		}
		for s.Start > 0 && !utf8.RuneStart(text[s.Start]) {
			s.Start--
		}
		for s.End < len(text) && !utf8.RuneStart(text[s.End]) {
			s.End++
		}
		if s.Start < s.End {
			c = append(c, s)
		}
	}
	sort.Slice(c, func(i, j int) bool {
		a, b := c[i], c[j]
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return la > lb
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Entity != b.Entity {
			return a.Entity < b.Entity
		}
		return a.Start < b.Start
	})
	var kept []Span
	for _, s := range c {
		ok := true
		for _, k := range kept {
			if s.Start < k.End && k.Start < s.End {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, s)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Start < kept[j].Start })
	return kept
}

// Operator produces the replacement for one span's value.
type Operator func(entity, value string) string

// Label replaces a value with "[ENTITY]".
func Label(entity, _ string) string { return "[" + entity + "]" }

// Mask returns an operator that replaces every letter and digit with '*'
// except the last keep ones; other characters (separators) stay.
func Mask(keep int) Operator {
	return func(_ string, v string) string {
		alnum := 0
		for _, r := range v {
			if isAlnum(r) {
				alnum++
			}
		}
		var b strings.Builder
		seen := 0
		for _, r := range v {
			if isAlnum(r) {
				seen++
				if seen <= alnum-keep {
					b.WriteByte('*')
					continue
				}
			}
			b.WriteRune(r)
		}
		return b.String()
	}
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// Hash returns an operator that replaces a value with
// "[ENTITY:hex]", hex being the first n hex digits of HMAC-SHA256(key,
// value): equal values map to equal tokens without revealing them.
func Hash(key []byte, n int) (Operator, error) {
	if len(key) < 16 {
		return nil, errors.New("redact: hash key must be at least 16 bytes")
	}
	if n < 8 || n > 64 {
		return nil, errors.New("redact: hash length must be 8..64 hex digits")
	}
	k := append([]byte(nil), key...)
	return func(entity, v string) string {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(v))
		return "[" + entity + ":" + hex.EncodeToString(m.Sum(nil))[:n] + "]"
	}, nil
}

// Apply replaces each span (which must come from Resolve: sorted and
// non-overlapping) with what op returns for it.
func Apply(text string, spans []Span, op func(s Span, value string) string) string {
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, s := range spans {
		if s.Start < last || s.End > len(text) {
			continue
		}
		b.WriteString(text[last:s.Start])
		b.WriteString(op(s, text[s.Start:s.End]))
		last = s.End
	}
	b.WriteString(text[last:])
	return b.String()
}
