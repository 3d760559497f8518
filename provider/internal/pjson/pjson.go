// Package pjson holds the strict JSON reading and in-place writing that the
// provider adapters share: body checks (UTF-8, nesting depth, validity),
// duplicate- and escape-safe field picking, typed field readers and the
// write-back of changed segments with sjson.
//
// Every function returns *provider.Error (Status 400) for bad input; callers
// reading upstream bodies turn those into 502s with Upstream.
package pjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
)

const (
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 64
	// MaxItems bounds every array an adapter walks (messages, content parts,
	// tools, tool calls, prompts, inputs, choices).
	MaxItems = 100_000
)

// Errorf builds a 400 *provider.Error.
func Errorf(code, param, format string, args ...any) error {
	return &provider.Error{Status: 400, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// Upstream turns a request-style error found while reading an upstream
// response or stream event into a 502 error with code bad_upstream_response.
func Upstream(err error) error {
	pe, ok := err.(*provider.Error)
	if !ok {
		return err
	}
	return &provider.Error{Status: 502, Code: "bad_upstream_response", Param: pe.Param,
		Message: "upstream response: " + pe.Message}
}

// Parse checks that body is valid UTF-8, nests at most MaxDepth deep, is valid
// JSON and is an object, and returns the parsed root. The body is copied once
// into a string that all returned results (and segment texts) share.
func Parse(body []byte) (gjson.Result, error) {
	if len(body) == 0 {
		return gjson.Result{}, Errorf("invalid_json", "", "body is empty; a JSON object is required")
	}
	s := string(body)
	if !utf8.ValidString(s) {
		return gjson.Result{}, Errorf("invalid_encoding", "", "body is not valid UTF-8")
	}
	if !depthOK(s, MaxDepth) {
		return gjson.Result{}, Errorf("too_deep", "", "JSON nests deeper than %d levels", MaxDepth)
	}
	if !gjson.Valid(s) {
		return gjson.Result{}, Errorf("invalid_json", "", "body is not valid JSON")
	}
	root := gjson.Parse(s)
	if !root.IsObject() {
		return gjson.Result{}, Errorf("invalid_type", "", "body must be a JSON object")
	}
	return root, nil
}

// depthOK reports whether no object or array in s nests deeper than max. It
// is a linear, non-recursive scan that skips string contents: a string ends
// at the first quote preceded by an even number of backslashes (found with
// strings.IndexByte, so long strings are skipped quickly).
func depthOK(s string, max int) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			i = stringEnd(s, i+1)
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// stringEnd returns the index of the quote closing the string whose contents
// start at from (len(s) if it is not closed).
func stringEnd(s string, from int) int {
	for i := from; ; {
		q := strings.IndexByte(s[i:], '"')
		if q < 0 {
			return len(s)
		}
		i += q
		bs := 0
		for k := i - 1; k >= from && s[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return i
		}
		i++
	}
}

// Fields reads the members named in names from object obj into out (same
// order). A name that occurs twice, or is spelled with escape sequences, is an
// error: other JSON parsers (the upstream's) could read a different value
// than the one rampart inspected.
func Fields(obj gjson.Result, param string, names []string, out []gjson.Result) error {
	if !obj.IsObject() {
		return Errorf("invalid_type", param, "%s must be an object", name(param))
	}
	var err error
	obj.ForEach(func(k, v gjson.Result) bool {
		for i, n := range names {
			if k.Str != n {
				continue
			}
			if strings.IndexByte(k.Raw, '\\') >= 0 {
				err = Errorf("invalid_key", join(param, n), "field %q is spelled with escape sequences", join(param, n))
				return false
			}
			if out[i].Exists() {
				err = Errorf("duplicate_key", join(param, n), "field %q occurs more than once", join(param, n))
				return false
			}
			out[i] = v
			return true
		}
		return true
	})
	return err
}

// Each calls fn for every element of array arr, at most MaxItems of them.
func Each(arr gjson.Result, param string, fn func(i int, v gjson.Result) error) error {
	if !arr.IsArray() {
		return Errorf("invalid_type", param, "%s must be an array", name(param))
	}
	var err error
	n := 0
	arr.ForEach(func(_, v gjson.Result) bool {
		if n >= MaxItems {
			err = Errorf("too_many_items", param, "%s has more than %d items", name(param), MaxItems)
			return false
		}
		err = fn(n, v)
		n++
		return err == nil
	})
	return err
}

// Present reports whether v was given and is not JSON null.
func Present(v gjson.Result) bool { return v.Exists() && v.Type != gjson.Null }

// The typed readers below name the field as parent and key, joined only
// when an error is reported, so that the success path does not allocate.

// Str requires v to be a string.
func Str(v gjson.Result, parent, key string) (string, error) {
	if v.Type != gjson.String {
		if !v.Exists() {
			return "", missing(parent, key)
		}
		return "", wrongType(parent, key, "a string")
	}
	return v.Str, nil
}

// OptStr is Str for an optional field: absent or null gives "".
func OptStr(v gjson.Result, parent, key string) (string, error) {
	if !Present(v) {
		return "", nil
	}
	return Str(v, parent, key)
}

// OptBool reads an optional boolean (absent or null gives false).
func OptBool(v gjson.Result, parent, key string) (bool, error) {
	switch v.Type {
	case gjson.True:
		return true, nil
	case gjson.False, gjson.Null:
		return false, nil
	}
	return false, wrongType(parent, key, "a boolean")
}

// OptInt reads an optional non-negative integer of at most MaxInt32 (absent
// or null gives 0).
func OptInt(v gjson.Result, parent, key string) (int, error) {
	if !Present(v) {
		return 0, nil
	}
	if v.Type != gjson.Number {
		return 0, wrongType(parent, key, "an integer")
	}
	if v.Num < 0 || v.Num > math.MaxInt32 || v.Num != math.Trunc(v.Num) {
		p := join(parent, key)
		return 0, Errorf("invalid_value", p, "%s must be an integer between 0 and %d", p, math.MaxInt32)
	}
	return int(v.Num), nil
}

// Obj requires v to be an object (use Present first for optional fields).
func Obj(v gjson.Result, parent, key string) error {
	if !v.IsObject() {
		if !v.Exists() {
			return missing(parent, key)
		}
		return wrongType(parent, key, "an object")
	}
	return nil
}

func missing(parent, key string) error {
	p := join(parent, key)
	return Errorf("missing_field", p, "%s is required", p)
}

func wrongType(parent, key, what string) error {
	p := join(parent, key)
	return Errorf("invalid_type", p, "%s must be %s", name(p), what)
}

// Path joins gjson path elements: strings are keys, ints array indexes.
func Path(elems ...any) string {
	var buf [96]byte
	b := buf[:0]
	for i, e := range elems {
		if i > 0 {
			b = append(b, '.')
		}
		switch e := e.(type) {
		case string:
			b = append(b, e...)
		case int:
			b = strconv.AppendInt(b, int64(e), 10)
		}
	}
	return string(b)
}

// Writer applies changes to a JSON body. The body is copied on the first
// change only, so an unchanged body is returned as the very same slice.
type Writer struct {
	Body []byte
}

// SetString replaces the string at path, which must currently hold a string
// equal to orig unless anyOrig is set (guarding against a body that does not
// match what was parsed from it).
func (w *Writer) SetString(path, orig, text string, anyOrig bool) error {
	cur := gjson.GetBytes(w.Body, path)
	if cur.Type != gjson.String || (!anyOrig && cur.Str != orig) {
		return notParsedText(path)
	}
	out, err := sjson.SetBytes(w.Body, path, text)
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	w.Body = out
	return nil
}

// SetRaw replaces the value at path with raw JSON.
func (w *Writer) SetRaw(path string, raw []byte) error {
	out, err := sjson.SetRawBytes(w.Body, path, raw)
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	w.Body = out
	return nil
}

// SetInt sets the value at path (replacing it, or adding the member when
// absent) to the JSON number n.
func (w *Writer) SetInt(path string, n int) error {
	var buf [20]byte
	return w.SetRaw(path, strconv.AppendInt(buf[:0], int64(n), 10))
}

// Delete removes the value at path.
func (w *Writer) Delete(path string) error {
	out, err := sjson.DeleteBytes(w.Body, path)
	if err != nil {
		return fmt.Errorf("delete %s: %w", path, err)
	}
	w.Body = out
	return nil
}

// WriteSegments writes back every changed segment in segs.
func (w *Writer) WriteSegments(segs []conv.Segment) error {
	for i := range segs {
		s := &segs[i]
		if !s.Changed() {
			continue
		}
		if s.Path == "" {
			return fmt.Errorf("changed segment has no path")
		}
		if err := w.SetString(s.Path, s.Original(), s.Text, false); err != nil {
			return err
		}
	}
	return nil
}

// Marshal encodes v (plain structs of strings and numbers, which cannot fail
// to encode) without HTML escaping and without a trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// SSE frames a data payload as one server-sent event named name.
func SSE(name string, data []byte) []byte {
	b := make([]byte, 0, len(name)+len(data)+16)
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

func name(param string) string {
	if param == "" {
		return "body"
	}
	return param
}

func join(param, key string) string {
	if param == "" {
		return key
	}
	if key == "" {
		return param
	}
	return param + "." + key
}
