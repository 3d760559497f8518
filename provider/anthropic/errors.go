package anthropic

import (
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

type errorBody struct {
	Type  string      `json:"type"`
	Error errorObject `json:"error"`
}

type errorObject struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
	Param   string `json:"param,omitempty"`
}

// errorType is the Anthropic error type for an HTTP status.
func errorType(status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 402:
		return "billing_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 422:
		return "output_blocked" // the answer was blocked by rampart's output policy
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "overloaded_error"
	case 504:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

func errorJSON(typ, code, message, param string) []byte {
	b, err := pj.Marshal(errorBody{Type: "error", Error: errorObject{Type: typ, Message: message, Code: code, Param: param}})
	if err != nil { // cannot happen for strings; keep the answer well-formed
		return []byte(`{"type":"error","error":{"type":"api_error","message":"internal error"}}`)
	}
	return b
}

// ErrorBody is {"type":"error","error":{"type","message"}} with the type
// derived from status; rampart's code and param ride along as extra "code"
// and "param" members of "error" when not empty (the SDKs ignore unknown
// members).
func (adapter) ErrorBody(status int, code, message, param string) []byte {
	return errorJSON(errorType(status), code, message, param)
}

// StreamErrorEvent is "event: error" with an api_error payload. The
// anthropic-sdk-go stream ends with an error on any event named "error".
func (adapter) StreamErrorEvent(code, message string) []byte {
	return pj.SSE("error", errorJSON("api_error", code, message, ""))
}
