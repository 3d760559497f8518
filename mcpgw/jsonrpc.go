package mcpgw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// JSON-RPC 2.0 error codes (the specification's, and rampart's own in the
// implementation-defined server range).
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeInternalError  = -32603
	// CodeBlocked: rampart refused the call (policy: a withheld tool, a
	// secret in the arguments, an injected result, a tool not allowed).
	CodeBlocked = -32001
	// CodeUnavailable: rampart could not check the call (store or scanner
	// failure); it fails closed.
	CodeUnavailable = -32002
)

// maxDepth bounds the nesting of a JSON-RPC message.
const maxDepth = 64

// maxBatch bounds the messages of one batch.
const maxBatch = 1000

// Message is one JSON-RPC 2.0 message: a request (Method and ID), a
// notification (Method, no ID) or a response (ID and Result or Error).
// Raw is the message as received; the proxy forwards it unchanged unless a
// check changed the message (then it re-encodes Fields).
type Message struct {
	Raw    json.RawMessage
	Fields map[string]json.RawMessage
	ID     json.RawMessage // nil for a notification
	Method string
	Params json.RawMessage
	Result json.RawMessage
	Error  json.RawMessage
}

// IsRequest reports whether m is a request (a method and an id).
func (m *Message) IsRequest() bool { return m.Method != "" && m.ID != nil }

// IsResponse reports whether m answers a request.
func (m *Message) IsResponse() bool { return m.Method == "" && m.ID != nil }

// IDKey is the id as a map key ("" for none).
func (m *Message) IDKey() string { return string(m.ID) }

// ParseError is a message that cannot be accepted, with its JSON-RPC code.
type ParseError struct {
	Code int
	Msg  string
}

func (e *ParseError) Error() string { return e.Msg }

// ParseBody parses a POST body or one stream event: exactly one JSON value,
// valid UTF-8, no duplicate object keys, nesting at most maxDepth, either
// one message object or a non-empty batch (array) of them.
func ParseBody(body []byte) (msgs []*Message, batch bool, err error) {
	if err := checkJSON(body); err != nil {
		return nil, false, err
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) > 0 && b[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, true, &ParseError{CodeParseError, "invalid JSON: " + err.Error()}
		}
		if len(raws) == 0 {
			return nil, true, &ParseError{CodeInvalidRequest, "empty batch"}
		}
		if len(raws) > maxBatch {
			return nil, true, &ParseError{CodeInvalidRequest, fmt.Sprintf("batch of %d messages; at most %d", len(raws), maxBatch)}
		}
		for _, r := range raws {
			m, err := parseMessage(r)
			if err != nil {
				return nil, true, err
			}
			msgs = append(msgs, m)
		}
		return msgs, true, nil
	}
	m, err := parseMessage(b)
	if err != nil {
		return nil, false, err
	}
	return []*Message{m}, false, nil
}

func parseMessage(raw []byte) (*Message, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, &ParseError{CodeInvalidRequest, "a JSON-RPC message must be an object"}
	}
	m := &Message{Raw: json.RawMessage(raw)}
	if err := json.Unmarshal(raw, &m.Fields); err != nil {
		return nil, &ParseError{CodeParseError, "invalid JSON: " + err.Error()}
	}
	var version string
	if v, ok := m.Fields["jsonrpc"]; !ok || json.Unmarshal(v, &version) != nil || version != "2.0" {
		return nil, &ParseError{CodeInvalidRequest, `"jsonrpc" must be "2.0"`}
	}
	if v, ok := m.Fields["id"]; ok {
		switch {
		case len(v) > 0 && (v[0] == '"' || v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
			m.ID = v
		case string(v) == "null":
			m.ID = v // a response to an unparseable request
		default:
			return nil, &ParseError{CodeInvalidRequest, `"id" must be a string or a number`}
		}
		if len(m.ID) > 256 {
			return nil, &ParseError{CodeInvalidRequest, `"id" is longer than 256 bytes`}
		}
	}
	if v, ok := m.Fields["method"]; ok {
		if json.Unmarshal(v, &m.Method) != nil || m.Method == "" || len(m.Method) > 256 {
			return nil, &ParseError{CodeInvalidRequest, `"method" must be a non-empty string of at most 256 bytes`}
		}
	}
	m.Params, m.Result, m.Error = m.Fields["params"], m.Fields["result"], m.Fields["error"]
	switch {
	case m.Method != "" && (m.Result != nil || m.Error != nil):
		return nil, &ParseError{CodeInvalidRequest, "a message cannot be both a request and a response"}
	case m.Method == "" && m.ID == nil:
		return nil, &ParseError{CodeInvalidRequest, `a message needs "method" or "id"`}
	case m.Method == "" && (m.Result == nil) == (m.Error == nil):
		return nil, &ParseError{CodeInvalidRequest, `a response needs exactly one of "result" and "error"`}
	case m.Params != nil && m.Params[0] != '{' && m.Params[0] != '[':
		return nil, &ParseError{CodeInvalidRequest, `"params" must be an object or an array`}
	}
	return m, nil
}

// checkJSON checks that body is exactly one JSON value in valid UTF-8,
// with no duplicate key in any object (nor keys equal but for case) and at most maxDepth levels, in one
// streaming pass over its tokens.
func checkJSON(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &ParseError{CodeParseError, "empty body"}
	}
	if !utf8.Valid(body) {
		return &ParseError{CodeParseError, "body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		obj    bool
		keys   map[string]struct{}
		expKey bool
	}
	var stack []frame
	values := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &ParseError{CodeParseError, "invalid JSON: " + err.Error()}
		}
		if len(stack) == 0 {
			values++
			if values > 1 {
				return &ParseError{CodeParseError, "more than one JSON value in the body"}
			}
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].obj && stack[top].expKey {
			if k, ok := tok.(string); ok {
				// Keys equal but for case count as duplicates: Go's
				// decoder matches struct fields without regard to case
				// (Unicode simple folding: "paramſ" is params to it),
				// other readers match exactly, and the checks and the
				// server must read the same field.
				fk := foldKey(k)
				if _, dup := stack[top].keys[fk]; dup {
					return &ParseError{CodeParseError, fmt.Sprintf("duplicate key %q (keys may not differ only in case)", truncate(k, 64))}
				}
				stack[top].keys[fk] = struct{}{}
				stack[top].expKey = false
				continue
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxDepth {
					return &ParseError{CodeParseError, fmt.Sprintf("JSON nests deeper than %d levels", maxDepth)}
				}
				f := frame{obj: t == '{', expKey: t == '{'}
				if f.obj {
					f.keys = map[string]struct{}{}
				}
				stack = append(stack, f)
			case '}', ']':
				stack = stack[:len(stack)-1]
				if n := len(stack) - 1; n >= 0 && stack[n].obj {
					stack[n].expKey = true
				}
			}
		default:
			if top >= 0 && stack[top].obj {
				stack[top].expKey = true
			}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// errorMessage encodes a JSON-RPC error response for id (null when nil).
func errorMessage(id json.RawMessage, code int, msg string, data any) json.RawMessage {
	if id == nil {
		id = json.RawMessage("null")
	}
	e := map[string]any{"code": code, "message": msg}
	if data != nil {
		e["data"] = data
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": e})
	return b
}

// encode re-encodes m after a check changed Fields (params or result).
func (m *Message) encode() (json.RawMessage, error) {
	b, err := json.Marshal(m.Fields)
	if err != nil {
		return nil, err
	}
	m.Raw = b
	return b, nil
}

// joinBatch encodes messages as a batch (or the one message alone).
func joinBatch(msgs []json.RawMessage, batch bool) []byte {
	if !batch && len(msgs) == 1 {
		return msgs[0]
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// foldKey is the same string for two keys exactly when strings.EqualFold
// says they are equal: each rune becomes the smallest rune of its simple
// case-folding orbit (as encoding/json folds names), so that ſ (U+017F)
// and S, s meet, and K (U+212A) and K, k.
func foldKey(k string) string {
	ascii := true
	for i := 0; i < len(k); i++ {
		if k[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(k)
	}
	b := make([]byte, 0, len(k))
	for _, r := range k {
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
