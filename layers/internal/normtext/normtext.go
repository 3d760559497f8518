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
	"sync"
	"unsafe"

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

// Pooling bounds: a released cache keeps at most maxFree views, only
// views of texts up to maxPooledText bytes, and is dropped when it served
// more than maxPooledSegs segments.
const (
	maxFree       = 64
	maxPooledText = 32 << 10
	maxPooledSegs = 256
)

// View is one segment's normalised text.
type View struct {
	// Text is the normalisation (Norm keeps line breaks as "\n"; OrigSpan
	// maps back to code points of the segment text). Read-only.
	Text normalize.Text
	src  string // the segment text Text was made from
	flat []byte
	hasF bool
}

// Flat returns Text.Norm with every "\n" replaced by " ": exactly the Norm
// that normalize gives without KeepNewlines (same length, so Text.OrigSpan
// applies to it unchanged). It is computed once per view, in a buffer the
// view reuses: the string is valid until the view is refreshed (its
// segment changed) or released, and must not be kept longer.
func (v *View) Flat() string {
	norm := v.Text.Norm
	if strings.IndexByte(norm, '\n') < 0 {
		return norm
	}
	if !v.hasF {
		v.flat = append(v.flat[:0], norm...)
		for i, c := range v.flat {
			if c == '\n' {
				v.flat[i] = ' '
			}
		}
		v.hasF = true
	}
	return unsafe.String(unsafe.SliceData(v.flat), len(v.flat))
}

// Cache holds the views of one transaction. The zero value is ready to
// use; it is not safe for concurrent use (layers of a transaction run one
// after another).
type Cache struct {
	entries map[*conv.Segment][numKinds]*View
	free    []*View // views to reuse
}

// Get returns the kind-k view of s's current text, normalising it unless
// a view of the same text is cached. The view is valid until s's text
// changes and Get is called again for it, or the cache is released.
func (c *Cache) Get(s *conv.Segment, k Kind) *View {
	if c.entries == nil {
		c.entries = make(map[*conv.Segment][numKinds]*View, 8)
	}
	e := c.entries[s]
	v := e[k]
	if v != nil && v.src == s.Text { // same string data: O(1)
		return v
	}
	if v == nil {
		if n := len(c.free); n > 0 {
			v, c.free = c.free[n-1], c.free[:n-1]
		} else {
			v = new(View)
		}
		e[k] = v
		c.entries[s] = e
	}
	// Reusing v's buffers is safe: Norm is always a fresh string, and
	// callers do not keep a view across a change of its segment.
	normalize.NormalizeInto(&v.Text, s.Text, k.Options())
	v.src, v.hasF = s.Text, false
	return v
}

// reset empties c for reuse, keeping a bounded number of small views. It
// reports false when c grew too large to be worth pooling.
func (c *Cache) reset() bool {
	if len(c.entries) > maxPooledSegs {
		return false
	}
	for _, e := range c.entries {
		for _, v := range e {
			if v != nil && len(c.free) < maxFree && len(v.src) <= maxPooledText &&
				len(v.Text.Norm) <= maxPooledText && cap(v.flat) <= maxPooledText {
				v.src, v.hasF, v.Text.Norm = "", false, ""
				c.free = append(c.free, v)
			}
		}
	}
	clear(c.entries)
	return true
}

var pool = sync.Pool{New: func() any { return new(Cache) }}

// For returns tx's cache, creating it on first use.
func For(tx *engine.Tx) *Cache {
	if c, ok := tx.State(StateKey).(*Cache); ok && c != nil {
		return c
	}
	c := pool.Get().(*Cache)
	tx.SetState(StateKey, c)
	return c
}

// Get is For(tx).Get(s, k).
func Get(tx *engine.Tx, s *conv.Segment, k Kind) *View { return For(tx).Get(s, k) }

// Release returns tx's cache (if any) to a pool for later transactions.
// Layers that use the cache call it from OnFinish; calling it more than
// once is harmless. No view of tx may be used afterwards.
func Release(tx *engine.Tx) {
	c, ok := tx.State(StateKey).(*Cache)
	if !ok || c == nil {
		return
	}
	tx.SetState(StateKey, nil)
	if c.reset() {
		pool.Put(c)
	}
}
