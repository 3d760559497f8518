// Package provider defines the contract between the engine and provider
// adapters (provider/openai, provider/anthropic). An adapter translates one
// API's JSON into the normalised conversation of package conv and writes the
// layers' modifications back, so that layers never parse provider JSON.
package provider

import (
	"github.com/rampart-ai/rampart/conv"
)

// Error is a client error found while parsing a request: it becomes a 4xx
// answer in the provider's error shape. Status defaults to 400.
type Error struct {
	Status  int
	Code    string // e.g. "invalid_json", "invalid_type"
	Param   string // the offending field, when known
	Message string
}

func (e *Error) Error() string { return e.Message }

// Adapter translates one API (one route family) to and from package conv.
// Adapters are stateless and safe for concurrent use; per-request state
// lives in the returned values.
type Adapter interface {
	// Provider is "openai" or "anthropic".
	Provider() string

	// ParseRequest decodes a request body. A malformed body returns *Error.
	ParseRequest(body []byte, kind conv.Kind) (*conv.Conversation, error)
	// EncodeRequest returns body with every changed segment of c written
	// back in place; all other bytes and fields stay as they were.
	EncodeRequest(body []byte, c *conv.Conversation) ([]byte, error)

	// ParseResponse decodes a whole (non-streamed) upstream response body.
	ParseResponse(body []byte, kind conv.Kind) (*conv.Response, error)
	// EncodeResponse writes changed segments of r back into body.
	EncodeResponse(body []byte, r *conv.Response) ([]byte, error)

	// ParseStreamEvent decodes one SSE event (name and data) of a streamed
	// response into ev (whose Seq the engine sets).
	ParseStreamEvent(name string, data []byte, ev *conv.StreamEvent) error
	// EncodeStreamEvent returns the SSE data payload for ev after layers
	// changed it. For a synthetic event (no upstream data) it builds a
	// well-formed text-delta event from ev.Deltas.
	EncodeStreamEvent(ev *conv.StreamEvent) ([]byte, error)

	// ErrorBody is the provider-shaped JSON error body.
	ErrorBody(status int, code, message, param string) []byte
	// StreamErrorEvent is the complete SSE event ("event: error\ndata: ...\n\n")
	// that ends a stream blocked or failed mid-way.
	StreamErrorEvent(code, message string) []byte
}
