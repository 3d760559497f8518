package engine

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes the engine itself uses in error answers.
const (
	CodeLayerUnavailable = "layer_unavailable"
	CodeBodyTooLarge     = "request_too_large"
	CodeInvalidRequest   = "invalid_request"
	CodeUpstreamError    = "upstream_error"
	CodeUpstreamTimeout  = "upstream_timeout"
	CodeUpstreamInvalid  = "upstream_invalid_response"
	CodeResponseTooLarge = "response_too_large"
	CodeBlocked          = "request_blocked"
	CodeInternal         = "internal_error"
	defaultBlockStatus   = http.StatusBadRequest
	// StatusOutputBlocked answers a request whose whole answer an output
	// layer blocked (the adapters give it the error type output_blocked).
	StatusOutputBlocked = http.StatusUnprocessableEntity
	// CodeUpstreamAuth answers an upstream 401/403: the provider refused
	// rampart's own credential, not the client's.
	CodeUpstreamAuth      = "upstream_auth_error"
	defaultUpstreamStatus = http.StatusBadGateway
)

// HTTPError is an error with the status and code the client should see. An
// Upstream returns it (e.g. 502 upstream_error, 504 upstream_timeout), also
// from its response body's Read, to tell the engine how to answer.
type HTTPError struct {
	Status  int
	Code    string
	Message string
	Err     error // cause, for logs and finish-phase layers; never sent
}

func (e *HTTPError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *HTTPError) Unwrap() error { return e.Err }

// asHTTPError classifies err for the client: an *HTTPError as is, anything
// else as 502 upstream_error.
func asHTTPError(err error) *HTTPError {
	var he *HTTPError
	if errors.As(err, &he) {
		return he
	}
	return &HTTPError{Status: defaultUpstreamStatus, Code: CodeUpstreamError, Message: "upstream request failed", Err: err}
}

// panicError is a recovered panic inside a layer call.
type panicError struct {
	layer string
	value any
}

func (p *panicError) Error() string { return "panic in layer " + p.layer }
