package engine

import (
	"context"
	"crypto/tls"
	"net/http"
	"time"

	"github.com/rampart-ai/rampart/conv"
)

// Identity is who is calling, once the identity layer knows it.
type Identity struct {
	Tenant  string // tenant id
	KeyID   string // API key id (never the key)
	Subject string // user id (JWT sub, or key name)
	Role    string // viewer, user, developer, admin
	// Policy names the policy that later layers apply for this identity.
	Policy string
	// Models lists the models this identity may use (empty: any).
	Models []string
	// Limits carries per-key limits set by operators (nil: policy defaults).
	Limits map[string]int64
}

// Attempt is one upstream call of a transaction.
type Attempt struct {
	// Upstream is the upstream's name.
	Upstream string `json:"upstream"`
	// Status is the upstream's HTTP status; 0 when it did not answer or
	// was not called (breaker open).
	Status int `json:"status,omitempty"`
	// Reason says why the attempt did not serve the answer: "status_503",
	// "connect_error", "timeout", "breaker_open", ...; empty for the
	// attempt whose answer the client got.
	Reason string `json:"reason,omitempty"`
	// Duration is the time until the answer's headers (or the failure).
	Duration time.Duration `json:"duration_ns"`
}

// Tx is one transaction: a client request and its answer, as it passes the
// chain. The engine creates it; layers read it and keep per-transaction
// state in it. A Tx is used by one goroutine at a time.
type Tx struct {
	// ID is the request id, also sent to the client as X-Request-Id.
	ID    string
	Start time.Time
	// Ctx is the request context (cancelled when the client goes away).
	Ctx context.Context
	// Route is the API route, e.g. "/v1/chat/completions".
	Route string
	// Method is the client's HTTP method.
	Method string
	// TLS is the client connection's TLS state (nil over plain HTTP); with
	// mTLS its VerifiedChains identify the client.
	TLS *tls.ConnectionState
	// ClientIP is the client address (after trusted-proxy handling).
	ClientIP string
	// Header is the client's request header (read-only for layers).
	Header http.Header
	// Request is the normalised request; layers may modify segment text.
	Request *conv.Conversation
	// Identity is set by the identity layer; nil before it, or when
	// authentication is off.
	Identity *Identity
	// Upstream is the name of the upstream that serves the request (the
	// last one tried when none answered).
	Upstream string
	// Attempts lists every upstream call made for the request, in order,
	// when the Upstream records them (the gateway's router does).
	Attempts []Attempt
	// Status is the HTTP status sent to the client (set by the engine).
	Status int
	// Usage is token usage (from upstream, or counted).
	Usage conv.Usage
	// Cost is Usage priced by the engine's Pricer, in nano-USD (1e-9 USD),
	// set when the transaction ends, before the finish phase; Priced is
	// false when no price was known for the model.
	Cost   int64
	Priced bool
	// Outcomes are every layer decision recorded so far, in order.
	Outcomes []Outcome
	// Blocked is true once any layer blocked in enforce mode.
	Blocked bool
	// Err is an upstream or engine failure (for finish-phase layers).
	Err error
	// RequestBytes and ResponseBytes count bodies as sent upstream / to the client.
	RequestBytes  int64
	ResponseBytes int64
	// ContentMAC is the hex HMAC-SHA256 of the request content (set by the engine).
	ContentMAC string

	state   map[string]any
	headers map[string]string // answer headers set by enforcing layers
	trace   *traceState       // nil unless the engine traces
}

// addHeaders remembers headers that layers want on the client's answer.
func (tx *Tx) addHeaders(h map[string]string) {
	if len(h) == 0 {
		return
	}
	if tx.headers == nil {
		tx.headers = make(map[string]string, len(h))
	}
	for k, v := range h {
		tx.headers[k] = v
	}
}

// State returns the value a layer stored under key for this transaction.
func (tx *Tx) State(key string) any {
	if tx.state == nil {
		return nil
	}
	return tx.state[key]
}

// SetState stores per-transaction layer state (e.g. a stream hold-back
// buffer, a canary token) under key; by convention key starts with the
// layer's name.
func (tx *Tx) SetState(key string, v any) {
	if tx.state == nil {
		tx.state = make(map[string]any, 4)
	}
	tx.state[key] = v
}
