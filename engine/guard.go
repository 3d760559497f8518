package engine

import (
	"net/http"
	"time"
)

// Guarded is a transaction on a route that is not a model API route (the
// MCP proxy, POST /v1/scan): the engine ran the headers phase (network,
// identity, blocks, rate limits) and the caller does the rest of the work
// itself, records its own decisions with Decide, and ends the transaction
// with End, which runs the finish phase (rate-limit settlement, incident
// response) and writes the audit record, exactly as for a model call.
type Guarded struct {
	e   *Engine
	Tx  *Tx
	end bool
}

// Guard starts a transaction for a non-model route and runs the headers
// phase. When a layer refuses the caller, Guard returns the refusal
// (status, code, message, headers to send) and the transaction is already
// ended and recorded; otherwise the refusal is nil and the caller must call
// End once it has answered. route names the transaction in audit and
// metrics (e.g. "/mcp/demo").
func (e *Engine) Guard(r *http.Request, route string) (*Guarded, *Refusal) {
	tx := &Tx{ID: NewRequestID(), Start: time.Now(), Ctx: r.Context(), Route: route,
		Method: r.Method, TLS: r.TLS, ClientIP: clientIP(r), Header: r.Header}
	g := &Guarded{e: e, Tx: tx}
	if b := e.runHeaders(tx); b != nil {
		ref := &Refusal{Status: b.status, Code: b.code, Message: b.reason, Headers: b.headers}
		tx.Status = b.status
		g.End()
		return nil, ref
	}
	return g, nil
}

// Refusal is a headers-phase block returned by Guard.
type Refusal struct {
	Status  int
	Code    string
	Message string
	Headers map[string]string
}

// Decide records the decision of a check the caller ran itself (layer
// names the check, e.g. "mcp") as an outcome of the transaction, with
// monitor and metrics handling like a chain layer: in monitor mode a block
// is recorded but not enforced. It reports whether the decision blocks.
func (g *Guarded) Decide(layer string, p Phase, monitor bool, d Decision, dur time.Duration) bool {
	s := &slot{name: layer, monitor: monitor}
	return g.e.settle(g.Tx, s, p, d, nil, dur, nil) != nil
}

// Failed records an internal failure of the caller's own check (fail
// closed: the caller answers 503).
func (g *Guarded) Failed(layer string, p Phase, err error, dur time.Duration) {
	s := &slot{name: layer}
	g.e.settle(g.Tx, s, p, Decision{}, err, dur, nil)
}

// End runs the finish phase and records the transaction (audit, metrics),
// once. Set Tx.Status to what the client was sent first (0 records 200).
func (g *Guarded) End() {
	if g.end {
		return
	}
	g.end = true
	(&txn{e: g.e, tx: g.Tx}).finish()
}

// SetContentMAC records the HMAC of the request content (as the engine
// does for model calls), so an investigator can match known content to the
// audit record without the record holding it.
func (g *Guarded) SetContentMAC(body []byte) { g.Tx.ContentMAC = g.e.contentMAC(body) }

// Admit runs the request phase of the engine's layers on the transaction,
// whose Request the caller set (for the admission layers: rate limits).
// A refusal is recorded; the caller answers it and still calls End.
func (g *Guarded) Admit() *Refusal {
	if b := g.e.runRequest(g.Tx); b != nil {
		g.Tx.Status = b.status
		return &Refusal{Status: b.status, Code: b.code, Message: b.reason, Headers: b.headers}
	}
	return nil
}
