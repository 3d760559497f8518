// Package normtext shares the normalised form of request segment text
// between the layers of one transaction, so that a segment is normalised
// once per request however many layers look at it (inputpolicy's role
// markers and topics' rails both read it).
//
// Views are cached in the transaction state under StateKey, keyed by the
// segment and validated against the segment's current text: a layer that
// rewrites a segment (truncation, redaction, spotlighting) makes the next
// Get normalise the new text. Comparing the cached text with the current one
// costs nothing when the text is unchanged (same string data), so the check
// is always done.
package normtext

import (
	"strings"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/normalize"
	"github.com/rampart-ai/rampart/engine"
)

// StateKey is the tx.State key of the per-transaction cache (*Cache).
const StateKey = "normtext.cache"

// Kind selects one of the two shared normalisations.
type Kind uint8

const (
	// Folded is normalize with case folding, KeepNewlines and
	// NoSpecialTokens: whitespace runs containing a line break become "\n".
	Folded Kind = iota
	// Cased is Folded without case folding (KeepCase).
	Cased
	numKinds
)

// Options returns the normalize options of kind k.
func (k Kind) Options() normalize.Options {
	return normalize.Options{KeepNewlines: true, NoSpecialTokens: true, KeepCase: k == Cased}
}

// View is one segment's normalised text.
type View struct {
	// Text is the normalisation (Norm keeps line breaks as "\n"; OrigSpan
	// maps back to code points of the segment text). Read-only.
	Text normalize.Text
	src  string // the segment text Text was made from
	flat string
	hasF bool
}

// Flat returns Text.Norm with every "\n" replaced by " ": exactly the Norm
// that normalize gives without KeepNewlines (same length, so Text.OrigSpan
// applies to it unchanged). It is computed once per view.
func (v *View) Flat() string {
	if !v.hasF {
		v.flat, v.hasF = v.Text.Norm, true
		if strings.IndexByte(v.flat, '\n') >= 0 {
			v.flat = strings.ReplaceAll(v.flat, "\n", " ")
		}
	}
	return v.flat
}

// Cache holds the views of one transaction. The zero value is ready to
// use; it is not safe for concurrent use (layers of a transaction run one
// after another).
type Cache struct {
	entries map[*conv.Segment]*[numKinds]*View
}

// Get returns the kind-k view of s's current text, normalising it unless
// a view of the same text is cached.
func (c *Cache) Get(s *conv.Segment, k Kind) *View {
	if c.entries == nil {
		c.entries = make(map[*conv.Segment]*[numKinds]*View, 8)
	}
	e := c.entries[s]
	if e == nil {
		e = new([numKinds]*View)
		c.entries[s] = e
	}
	v := e[k]
	if v != nil && v.src == s.Text { // same string data: O(1)
		return v
	}
	if v == nil {
		v = new(View)
		e[k] = v
	}
	// Reusing v's buffers is safe: Norm is always a fresh string, and
	// callers do not keep a View across a change of the segment.
	normalize.NormalizeInto(&v.Text, s.Text, k.Options())
	v.src, v.flat, v.hasF = s.Text, "", false
	return v
}

// For returns tx's cache, creating it on first use.
func For(tx *engine.Tx) *Cache {
	if c, ok := tx.State(StateKey).(*Cache); ok {
		return c
	}
	c := new(Cache)
	tx.SetState(StateKey, c)
	return c
}

// Get is For(tx).Get(s, k).
func Get(tx *engine.Tx, s *conv.Segment, k Kind) *View { return For(tx).Get(s, k) }
