// Package scanapi reads the body of POST /v1/scan with the same strict
// JSON reader as the model API (UTF-8, nesting depth, exactly one JSON
// document, duplicate and escaped keys refused) and presents it to the
// engine as a conversation, so that /v1/scan passes the same identity,
// block, rate-limit and size checks as the model routes and is audited.
package scanapi

import (
	"github.com/tidwall/gjson"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/detect/scan"
	"github.com/rampart-ai/rampart/provider"
	"github.com/rampart-ai/rampart/provider/internal/pjson"
	"github.com/rampart-ai/rampart/provider/openai"
)

// MaxItems bounds the items of one request.
const MaxItems = 1000

// Request is a parsed POST /v1/scan body: one item ({"text": ...}) or
// several ({"items": [...]}).
type Request struct {
	// Single is true for {"text": ...}: the answer is one result object.
	Single bool
	Items  []scan.Item
	// Direction is "input", "output" or "" (the caller's default).
	Direction string
}

var (
	topFields  = []string{"text", "role", "direction", "items", "user", "tools"}
	itemFields = []string{"text", "role", "user", "tools"}
)

// Parse reads body strictly. Errors are *provider.Error (400).
func Parse(body []byte) (*Request, error) {
	root, err := pjson.Parse(body)
	if err != nil {
		return nil, err
	}
	if err := known(root, "", topFields); err != nil {
		return nil, err
	}
	var f [6]gjson.Result
	if err := pjson.Fields(root, "", topFields, f[:]); err != nil {
		return nil, err
	}
	req := &Request{}
	if req.Direction, err = pjson.OptStr(f[2], "", "direction"); err != nil {
		return nil, err
	}
	hasText, hasItems := pjson.Present(f[0]), pjson.Present(f[3])
	switch {
	case hasText && !hasItems:
		it, err := item(root, "")
		if err != nil {
			return nil, err
		}
		req.Single, req.Items = true, []scan.Item{it}
	case hasItems && !hasText:
		if pjson.Present(f[1]) || pjson.Present(f[4]) || pjson.Present(f[5]) {
			return nil, pjson.Errorf("invalid_request", "", "role, user and tools belong inside each item when items is given")
		}
		err := pjson.Each(f[3], "items", func(i int, v gjson.Result) error {
			if i >= MaxItems {
				return pjson.Errorf("too_many_items", "items", "at most %d items per request", MaxItems)
			}
			param := "items." + itoa(i)
			if err := known(v, param, itemFields); err != nil {
				return err
			}
			it, err := item(v, param)
			if err != nil {
				return err
			}
			req.Items = append(req.Items, it)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if req.Items == nil {
			req.Items = []scan.Item{}
		}
	default:
		return nil, pjson.Errorf("invalid_request", "", `give either "text" or "items"`)
	}
	return req, nil
}

// known refuses members of obj not in names (a typo would otherwise be
// silently ignored, e.g. "txt").
func known(obj gjson.Result, param string, names []string) error {
	if !obj.IsObject() {
		return pjson.Errorf("invalid_type", param, "%s must be an object", orBody(param))
	}
	var err error
	obj.ForEach(func(k, _ gjson.Result) bool {
		for _, n := range names {
			if k.Str == n {
				return true
			}
		}
		err = pjson.Errorf("unknown_field", param, "unknown field %q", k.Str)
		return false
	})
	return err
}

func item(obj gjson.Result, param string) (scan.Item, error) {
	var f [4]gjson.Result
	if err := pjson.Fields(obj, param, itemFields, f[:]); err != nil {
		return scan.Item{}, err
	}
	var it scan.Item
	var err error
	if it.Text, err = pjson.Str(f[0], param, "text"); err != nil {
		return it, err
	}
	if it.Role, err = pjson.OptStr(f[1], param, "role"); err != nil {
		return it, err
	}
	if it.User, err = pjson.OptStr(f[2], param, "user"); err != nil {
		return it, err
	}
	if pjson.Present(f[3]) {
		err = pjson.Each(f[3], param+".tools", func(_ int, v gjson.Result) error {
			s, err := pjson.Str(v, param, "tools")
			it.Tools = append(it.Tools, s)
			return err
		})
	}
	return it, err
}

func orBody(param string) string {
	if param == "" {
		return "the body"
	}
	return param
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	return string(b[n:])
}

// adapter presents a scan request to the engine: each item's text (and the
// user request it answers) is a user segment, its tool names tool-definition
// segments, for the rate limiter's token
// count and the audit record. Errors are in OpenAI's shape.
type adapter struct{ provider.Adapter }

// New returns the adapter of the /v1/scan route.
func New() provider.Adapter { return adapter{openai.New()} }

func (adapter) Provider() string { return "openai" }

func (adapter) ParseRequest(body []byte, kind conv.Kind) (*conv.Conversation, error) {
	req, err := Parse(body)
	if err != nil {
		return nil, err
	}
	c := &conv.Conversation{Kind: conv.KindChat, Provider: "openai"}
	for i, it := range req.Items {
		m := conv.Message{Role: conv.RoleUser, Segments: []conv.Segment{{Text: it.Text, Source: conv.SourceUser, Path: "items." + itoa(i) + ".text"}}}
		if it.User != "" {
			m.Segments = append(m.Segments, conv.Segment{Text: it.User, Source: conv.SourceUser, Path: "items." + itoa(i) + ".user"})
		}
		// Tool names are read by the scanner too: they count in the size
		// limits (max_chars, max_message_chars) and the token estimate.
		for j, t := range it.Tools {
			m.Segments = append(m.Segments, conv.Segment{Text: t, Source: conv.SourceToolDef, Path: "items." + itoa(i) + ".tools." + itoa(j)})
		}
		c.Messages = append(c.Messages, m)
	}
	return c, nil
}

// EncodeRequest returns body as is: nothing is sent upstream.
func (adapter) EncodeRequest(body []byte, _ *conv.Conversation) ([]byte, error) { return body, nil }

// ParseResponse reads nothing: the scan's answer is rampart's own.
func (adapter) ParseResponse([]byte, conv.Kind) (*conv.Response, error) { return &conv.Response{}, nil }

// EncodeResponse returns body as is.
func (adapter) EncodeResponse(body []byte, _ *conv.Response) ([]byte, error) { return body, nil }

// ParseStreamEvent: the scan answer is never a stream.
func (adapter) ParseStreamEvent(string, []byte, *conv.StreamEvent) error {
	return &provider.Error{Status: 502, Code: "bad_upstream_response", Message: "scan answers are not streamed"}
}
