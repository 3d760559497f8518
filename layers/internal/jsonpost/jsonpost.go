// Package jsonpost is the HTTP client side shared by the layers that ask an
// external model server (guardmodel, escalation): one JSON POST with a
// timeout, a bearer token, a bounded answer, and failures sorted into
// kinds for metrics and findings. Errors never carry the request or the
// answer.
package jsonpost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Error kinds (metric label "kind").
const (
	KindTimeout    = "timeout"
	KindOverloaded = "overloaded" // over the layer's max_concurrency
	KindHTTP5xx    = "http_5xx"
	KindHTTP4xx    = "http_4xx"
	KindMalformed  = "malformed"
	KindTransport  = "transport"
	KindCanceled   = "canceled" // client went away
)

// Error is a failed call with its kind. Prefix names the layer in the
// error text.
type Error struct {
	Prefix string
	Kind   string
	Msg    string
}

func (e *Error) Error() string { return e.Prefix + ": " + e.Kind + ": " + e.Msg }

// KindOf is err's kind (transport for errors of other types).
func KindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindTransport
}

// NewHTTPClient is a client for one model server: dial and header
// timeouts, idle connections for maxConns calls, no redirects followed.
func NewHTTPClient(timeout time.Duration, maxConns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Client posts JSON to one server.
type Client struct {
	HTTP     *http.Client
	Endpoint string // base URL without a trailing slash
	APIKey   string // bearer token; "" for none
	Timeout  time.Duration
	// MaxAnswer bounds the answer body in bytes.
	MaxAnswer int64
	// Prefix names the layer in errors.
	Prefix string
}

func (c *Client) fail(kind, msg string) error { return &Error{Prefix: c.Prefix, Kind: kind, Msg: msg} }

// Post sends body as JSON to Endpoint+path and returns the answer body of
// a 2xx answer.
func (c *Client) Post(ctx context.Context, path string, body any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, c.fail(KindMalformed, "encoding request")
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+path, bytes.NewReader(data))
	if err != nil {
		return nil, c.fail(KindTransport, "building request")
	}
	req.Header.Set("Content-Type", "application/json")
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, c.transport(ctx, err)
	}
	defer resp.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxAnswer+1))
	if err != nil {
		return nil, c.transport(ctx, err)
	}
	switch {
	case resp.StatusCode >= 500:
		return nil, c.fail(KindHTTP5xx, fmt.Sprintf("status %d", resp.StatusCode))
	case resp.StatusCode >= 300:
		return nil, c.fail(KindHTTP4xx, fmt.Sprintf("status %d", resp.StatusCode))
	case int64(len(ans)) > c.MaxAnswer:
		return nil, c.fail(KindMalformed, "answer larger than max_answer_bytes")
	}
	return ans, nil
}

func (c *Client) transport(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return c.fail(KindTimeout, "no answer in time")
	case errors.Is(ctx.Err(), context.Canceled):
		return c.fail(KindCanceled, "request cancelled")
	}
	return c.fail(KindTransport, "connection failed")
}
