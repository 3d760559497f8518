package openai

import (
	pj "github.com/rampart-ai/rampart/provider/internal/pjson"
)

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// errorType is the OpenAI error type for an HTTP status.
func errorType(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 403:
		return "permission_error"
	case status == 404:
		return "not_found_error"
	case status == 422:
		return "output_blocked" // the answer was blocked by rampart's output policy
	case status == 429:
		return "rate_limit_exceeded"
	case status == 500:
		return "server_error"
	case status >= 500:
		return "api_error"
	}
	return "invalid_request_error" // 400, 413 and every other status
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func errorJSON(typ, code, message, param string) []byte {
	b, err := pj.Marshal(errorBody{Error: errorObject{Message: message, Type: typ,
		Param: optional(param), Code: optional(code)}})
	if err != nil { // cannot happen for strings; keep the answer well-formed
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	return b
}

// ErrorBody is {"error":{"message","type","param","code"}} with the type
// derived from status; empty param and code are null.
func (adapter) ErrorBody(status int, code, message, param string) []byte {
	return errorJSON(errorType(status), code, message, param)
}

// StreamErrorEvent is "event: error" with an {"error":{...}} payload of type
// server_error. The openai-go SDK ends a stream with an error on any data
// payload that has a top-level "error" member, whatever the event name; the
// Python and Node SDKs do on an "error" event with that member. The same
// payload also carries the Responses API's error event fields (type "error",
// code, message, param, sequence_number), so that Responses stream parsers
// that validate event shapes (Vercel AI SDK) read it as that event.
func (adapter) StreamErrorEvent(code, message string) []byte {
	b, err := pj.Marshal(streamError{Type: "error", Code: optional(code), Message: message,
		Error: errorObject{Message: message, Type: "server_error", Code: optional(code)}})
	if err != nil {
		return pj.SSE("error", errorJSON("server_error", code, message, ""))
	}
	return pj.SSE("error", b)
}

type streamError struct {
	Type           string      `json:"type"`
	Code           *string     `json:"code"`
	Message        string      `json:"message"`
	Param          *string     `json:"param"`
	SequenceNumber int         `json:"sequence_number"`
	Error          errorObject `json:"error"`
}
