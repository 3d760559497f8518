package gemini

import (
	"fmt"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

// New returns the Gemini adapter. It is stateless and safe for concurrent use.
func New() provider.Adapter { return adapter{} }

type adapter struct{}

func (adapter) Provider() string { return "gemini" }

func unsupported(kind conv.Kind) error {
	return &provider.Error{Status: 404, Code: "unsupported_route",
		Message: fmt.Sprintf("the gemini adapter does not handle %q calls", kind)}
}

// Google APIs answer errors as {"error":{"code","message","status",
// "details"}}, status being the canonical (gRPC) code name. rampart's own
// code and param ride in a google.rpc.ErrorInfo detail (reason = code,
// domain "rampart", metadata.param), which the SDKs pass on as is.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Status  string        `json:"status"`
	Details []errorDetail `json:"details,omitempty"`
}

type errorDetail struct {
	Type     string            `json:"@type"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// statusName is the canonical code name Google APIs use with an HTTP status.
func statusName(status int) string {
	switch status {
	case 400, 413:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 405, 501:
		return "UNIMPLEMENTED"
	case 409:
		return "ABORTED"
	case 422:
		return "FAILED_PRECONDITION" // the answer was blocked by rampart's output policy
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 503, 502:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}

func errorJSON(status int, code, message, param string) []byte {
	e := errorObject{Code: status, Message: message, Status: statusName(status)}
	if code != "" {
		d := errorDetail{Type: "type.googleapis.com/google.rpc.ErrorInfo", Reason: code, Domain: "rampart"}
		if param != "" {
			d.Metadata = map[string]string{"param": param}
		}
		e.Details = []errorDetail{d}
	}
	b, err := pj.Marshal(errorBody{Error: e})
	if err != nil {
		return []byte(`{"error":{"code":500,"message":"internal error","status":"INTERNAL"}}`)
	}
	return b
}

// ErrorBody is the Google API error body for status.
func (adapter) ErrorBody(status int, code, message, param string) []byte {
	return errorJSON(status, code, message, param)
}

// StreamErrorEvent ends a stream with a data-only event holding an error
// object ("data: {"error":{...}}"): the google.golang.org/genai stream
// iterator (and the other Gemini SDKs) turn a chunk with an "error" member
// into an API error. It carries no event name, which the Go SDK's line
// parser would reject. The error's code is 500 INTERNAL for rampart's
// internal errors, 502 UNAVAILABLE / 504 DEADLINE_EXCEEDED for upstream
// failures, and 422 FAILED_PRECONDITION for everything else (policy
// blocks, as a whole answer blocked by the output policy is 422).
func (adapter) StreamErrorEvent(code, message string) []byte {
	status := 422
	switch code {
	case "internal_error", "layer_unavailable":
		status = 500
	case "upstream_timeout":
		status = 504
	case "upstream_error", "upstream_invalid_response", "response_too_large", "upstream_auth_error":
		status = 502
	}
	data := errorJSON(status, code, message, "")
	b := make([]byte, 0, len(data)+8)
	b = append(b, "data: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}
