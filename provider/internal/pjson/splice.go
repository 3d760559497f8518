package pjson

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
)

// Changed stream deltas are written back by splicing: each new text, encoded
// as a JSON string, replaces the bytes of the string value its Path points at
// (located with gjson, which gives the value's byte offset), and the body is
// rebuilt once. The result is byte for byte what writing the texts one by one
// with sjson.SetBytes gives (WriteDeltasSJSON, the fallback, kept as the
// reference the tests compare against); the splice only avoids sjson's
// per-call path parsing and body copies.

// splice replaces body[start:end] with the JSON encoding of text.
type splice struct {
	start, end int
	text       string
}

// WriteDeltas writes back every changed delta text in ds. (conv.Delta does
// not expose its original text, so only the string type at Path is checked.)
func (w *Writer) WriteDeltas(ds []conv.Delta) error {
	var buf [4]splice
	sp := buf[:0]
	grow := 0
	for i := range ds {
		d := &ds[i]
		if !d.Changed() {
			continue
		}
		if d.Path == "" {
			return fmt.Errorf("changed delta has no path")
		}
		cur := gjson.GetBytes(w.Body, d.Path)
		if cur.Type != gjson.String {
			return notParsedText(d.Path)
		}
		end := cur.Index + len(cur.Raw)
		if cur.Index <= 0 || end > len(w.Body) || string(w.Body[cur.Index:end]) != cur.Raw {
			return w.WriteDeltasSJSON(ds) // offset unknown: let sjson locate it
		}
		sp = append(sp, splice{start: cur.Index, end: end, text: d.Text})
		grow += len(d.Text) + 2 - len(cur.Raw)
	}
	if len(sp) == 0 {
		return nil
	}
	slices.SortFunc(sp, func(a, b splice) int { return a.start - b.start })
	for i := 1; i < len(sp); i++ {
		if sp[i].start < sp[i-1].end { // the same value twice: last write wins
			return w.WriteDeltasSJSON(ds)
		}
	}
	out := make([]byte, 0, len(w.Body)+max(grow, 0)+16)
	prev := 0
	for _, s := range sp {
		out = append(out, w.Body[prev:s.start]...)
		out = AppendString(out, s.text)
		prev = s.end
	}
	w.Body = append(out, w.Body[prev:]...)
	return nil
}

// WriteDeltasSJSON is WriteDeltas done with one sjson.SetBytes per changed
// delta: the fallback for bodies the splice cannot locate values in, and the
// reference its output is tested against.
func (w *Writer) WriteDeltasSJSON(ds []conv.Delta) error {
	for i := range ds {
		d := &ds[i]
		if !d.Changed() {
			continue
		}
		if d.Path == "" {
			return fmt.Errorf("changed delta has no path")
		}
		if err := w.SetString(d.Path, "", d.Text, true); err != nil {
			return err
		}
	}
	return nil
}

func notParsedText(path string) error {
	return fmt.Errorf("rewrite %s: body does not hold the parsed text there", path)
}

// AppendString appends s as a JSON string the way sjson writes string values:
// verbatim between quotes when s holds no byte below 0x20 or above 0x7e,
// no quote and no backslash; otherwise as encoding/json marshals it (HTML
// characters <, > and & escaped, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped).
func AppendString(dst []byte, s string) []byte {
	if !mustEscape(s) {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	return appendEscaped(dst, s)
}

// mustEscape mirrors sjson's test for strings it hands to encoding/json.
func mustEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > 0x7f || c == '"' || c == '\\' {
			return true
		}
	}
	return false
}

const hexDigits = "0123456789abcdef"

// appendEscaped writes s with the escaping of encoding/json.Marshal (with
// its default HTML escaping).
func appendEscaped(dst []byte, s string) []byte {
	dst = append(dst, '"')
	from := 0 // start of the run not yet copied
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '"':
				esc = `\"`
			case c == '\\':
				esc = `\\`
			case c == '\b':
				esc = `\b`
			case c == '\f':
				esc = `\f`
			case c == '\n':
				esc = `\n`
			case c == '\r':
				esc = `\r`
			case c == '\t':
				esc = `\t`
			case c < ' ' || c == '<' || c == '>' || c == '&':
				dst = append(dst, s[from:i]...)
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				i++
				from = i
				continue
			default:
				i++
				continue
			}
			dst = append(dst, s[from:i]...)
			dst = append(dst, esc...)
			i++
			from = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, s[from:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[from:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		from = i
	}
	dst = append(dst, s[from:]...)
	return append(dst, '"')
}
