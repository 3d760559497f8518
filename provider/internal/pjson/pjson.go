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
	"encoding/base64"
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

// ModelOnly reads the optional "model" of a body whose content adapters
// pass through unread (token counting, moderation): the model is what
// identity and limits need.
func ModelOnly(body []byte, c *conv.Conversation) error {
	root, err := Parse(body)
	if err != nil {
		return err
	}
	var f [1]gjson.Result
	if err := Fields(root, "", []string{"model"}, f[:]); err != nil {
		return err
	}
	c.Model, err = OptStr(f[0], "", "model")
	return err
}

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
// order). A name that occurs twice, is spelled with escape sequences, or is
// spelled in another letter case ("Messages", "meſſages") is an error: other
// JSON parsers (the upstream's) could read a different value than the one
// rampart inspected. Go's encoding/json, which Go servers such as Ollama
// decode requests with, takes a member whose name matches a field's
// case-insensitively (Unicode simple folding, strings.EqualFold), the last
// one winning.
func Fields(obj gjson.Result, param string, names []string, out []gjson.Result) error {
	if !obj.IsObject() {
		return Errorf("invalid_type", param, "%s must be an object", name(param))
	}
	var err error
	obj.ForEach(func(k, v gjson.Result) bool {
		for i, n := range names {
			if k.Str != n {
				if foldsTo(k.Str, n) {
					err = Errorf("invalid_key", join(param, n), "field %q is spelled %q: spell it exactly as documented", join(param, n), k.Str)
					return false
				}
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

// foldsTo reports whether key is another spelling of the ASCII name n under
// Unicode simple case folding (strings.EqualFold, as Go's encoding/json
// matches names). The first byte is compared first, so that the common
// case, a different name, costs no EqualFold.
func foldsTo(key, n string) bool {
	if len(key) < len(n) || len(key) > 3*len(n) || n == "" {
		return false // a fold of an ASCII letter is 1 to 3 bytes long
	}
	if c := key[0]; c < utf8.RuneSelf && c|0x20 != n[0]|0x20 {
		return false
	}
	return strings.EqualFold(key, n)
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

// schemaWords are JSON Schema keywords: as keys they carry no text of
// their own, and the string values of the structural ones (type, format,
// $ref, ...) are identifiers, not prose.
var schemaWords = map[string]bool{
	"type": true, "properties": true, "required": true, "items": true, "description": true,
	"title": true, "enum": true, "const": true, "default": true, "examples": true,
	"additionalProperties": true, "$schema": true, "$defs": true, "definitions": true, "$ref": true,
	"anyOf": true, "oneOf": true, "allOf": true, "not": true, "format": true, "pattern": true,
	"minimum": true, "maximum": true, "minLength": true, "maxLength": true, "minItems": true,
	"maxItems": true, "strict": true, "parameters": true, "input_schema": true, "name": true,
	"function": true, "custom": true, "schema": true, "json_schema": true, "nullable": true,
}

// identValue marks keys whose string values are identifiers.
var identValue = map[string]bool{"type": true, "format": true, "$ref": true, "$schema": true}

// Text returns the prose of a JSON value the model reads as a whole (a tool
// definition, a JSON Schema): every string value and every member name
// that is not a JSON Schema keyword, one per line in document order. It is
// bounded by the value's size; the nesting depth was checked by Parse.
func Text(v gjson.Result) string {
	var b strings.Builder
	var walk func(key string, v gjson.Result)
	walk = func(key string, v gjson.Result) {
		switch {
		case v.Type == gjson.String:
			if !identValue[key] && v.Str != "" {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(v.Str)
			}
		case v.IsObject():
			v.ForEach(func(k, e gjson.Result) bool {
				if !schemaWords[k.Str] && k.Str != "" {
					if b.Len() > 0 {
						b.WriteByte('\n')
					}
					b.WriteString(k.Str)
				}
				walk(k.Str, e)
				return true
			})
		case v.IsArray():
			v.ForEach(func(_, e gjson.Result) bool {
				walk(key, e)
				return true
			})
		}
	}
	walk("", v)
	return b.String()
}

// MaxFileText bounds the base64 of an attached file the adapters decode to
// inspect its text (6 MiB of base64, 4.5 MiB of text).
const MaxFileText = 6 << 20

// DataText decodes the base64 file data of an attachment (a data URL
// "data:<type>;base64,..." or bare base64) and returns its text when the
// decoded bytes are text: valid UTF-8 without control bytes other than
// tab, newline, carriage return and form feed, whatever type the client
// declared; or, when the declared type is textual (text/*, JSON, XML,
// YAML, ...) or the bytes are text but for a few control bytes (at most
// one in 32), the text with its control bytes dropped and invalid UTF-8
// replaced — a model reads such a file as text, so a control byte does
// not make it pass unread. ok is false for binary content (a PDF, an
// image). Data that is not valid base64, or longer than MaxFileText, is an
// error: the gateway does not forward a file it could not read.
func DataText(data, param string) (text string, ok bool, err error) {
	return DataTextTyped(data, "", param)
}

// DataTextTyped is DataText for data whose declared media type is given
// apart (Gemini inlineData.mimeType, Anthropic media_type); a data URL's
// own type counts too.
func DataTextTyped(data, mime, param string) (text string, ok bool, err error) {
	if rest, found := strings.CutPrefix(data, "data:"); found {
		comma := strings.IndexByte(rest, ',')
		if comma < 0 || !strings.HasSuffix(rest[:comma], ";base64") {
			return "", false, Errorf("invalid_value", param, "%s must be a base64 data URL", param)
		}
		if mime == "" {
			mime = strings.TrimSuffix(rest[:comma], ";base64")
		}
		data = rest[comma+1:]
	}
	textual := textualType(mime)
	// Sniff the first 4 KiB of base64 (3 KiB of content): binary files
	// (PDF, images) show control bytes or invalid UTF-8 there, and are
	// not decoded further.
	head := data[:min(len(data), 4<<10)]
	raw, err := base64.StdEncoding.DecodeString(head)
	if err != nil && len(head) == len(data) {
		return "", false, Errorf("invalid_value", param, "%s is not valid base64", param)
	}
	if err == nil && !textual && !isText(raw, len(head) < len(data)) && !fewControls(raw, len(head) < len(data)) {
		return "", false, nil
	}
	if len(data) > MaxFileText {
		return "", false, &provider.Error{Status: 413, Code: "file_too_large", Param: param,
			Message: fmt.Sprintf("%s holds text longer than the %d bytes of base64 the gateway inspects", param, MaxFileText)}
	}
	if raw, err = base64.StdEncoding.DecodeString(data); err != nil {
		return "", false, Errorf("invalid_value", param, "%s is not valid base64", param)
	}
	if isText(raw, false) {
		return string(raw), true, nil
	}
	if !textual && !fewControls(raw, false) {
		return "", false, nil
	}
	return dropControls(raw), true, nil
}

// textualType reports whether a declared media type is one a model reads
// as text.
func textualType(mime string) bool {
	m, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(mime)), ";")
	if strings.HasPrefix(m, "text/") || strings.HasSuffix(m, "+json") || strings.HasSuffix(m, "+xml") {
		return true
	}
	switch m {
	case "application/json", "application/xml", "application/x-yaml", "application/yaml", "application/javascript",
		"application/x-javascript", "application/ecmascript", "application/x-sh", "application/x-python", "application/sql",
		"application/x-ndjson", "application/jsonl", "application/toml", "application/x-httpd-php", "application/csv":
		return true
	}
	return false
}

// fewControls reports whether b is valid UTF-8 text but for control bytes,
// at most one in 32 (binary data has more, or invalid UTF-8). With cut, b
// is a prefix.
func fewControls(b []byte, cut bool) bool {
	n := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f {
			n++
		}
	}
	if n*32 > len(b) {
		return false
	}
	return isText(dropControlsBytes(b), cut)
}

func dropControlsBytes(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f {
			continue
		}
		out = append(out, c)
	}
	return out
}

// dropControls is b as text: control bytes dropped, invalid UTF-8
// replaced by U+FFFD.
func dropControls(b []byte) string {
	return strings.ToValidUTF8(string(dropControlsBytes(b)), "\uFFFD")
}

// isText reports whether b is UTF-8 text without control bytes other than
// tab, newline, carriage return and form feed. With cut, b is a prefix and
// may end inside a UTF-8 sequence.
func isText(b []byte, cut bool) bool {
	if cut {
		if k := len(b); k > 0 {
			// drop an incomplete final sequence
			for j := k - 1; j >= 0 && j >= k-utf8.UTFMax; j-- {
				if utf8.RuneStart(b[j]) {
					if !utf8.FullRune(b[j:]) {
						b = b[:j]
					}
					break
				}
			}
		}
	}
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' || c == 0x7f {
			return false
		}
	}
	return true
}

// EncodeConversation writes a conversation's changes back into a request
// body whose text lives only in segments (Anthropic Messages, Gemini): the
// output cap at capPath when a layer changed it (named capName in the
// error: a layer may lower the cap, never remove it), then every segment
// of the system text and the messages.
func EncodeConversation(body []byte, c *conv.Conversation, capPath, capName string) ([]byte, error) {
	w := Writer{Body: body}
	if c.MaxTokensChanged() {
		if c.MaxTokens <= 0 {
			return nil, fmt.Errorf("%s changed to %d: a layer may lower the cap, not remove it", capName, c.MaxTokens)
		}
		if err := w.SetInt(capPath, c.MaxTokens); err != nil {
			return nil, err
		}
	}
	if err := w.WriteSegments(c.System); err != nil {
		return nil, err
	}
	for i := range c.Messages {
		if err := w.WriteSegments(c.Messages[i].Segments); err != nil {
			return nil, err
		}
	}
	return w.Body, nil
}
