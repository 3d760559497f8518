package engine

import (
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rampart-ai/rampart/conv"
)

// Phase names a point in a transaction at which layers are called.
type Phase string

const (
	PhaseHeaders  Phase = "headers"  // request line and headers, before the body is read
	PhaseRequest  Phase = "request"  // before the upstream call
	PhaseResponse Phase = "response" // whole (non-streamed) response
	PhaseStream   Phase = "stream"   // each SSE event, incrementally
	PhaseFinish   Phase = "finish"   // always, after everything (audit)
)

// Layer is one security layer of the chain. A layer implements any subset of
// the phase interfaces below; the engine calls only those it implements.
//
// Lifecycle (as in Caddy): a Module's New builds the layer from its config
// with no side effects; ValidateConfig checks that config, still with no
// side effects; Provision compiles rules and opens clients; Validate
// checks the result quickly; Close releases resources, also when Provision
// failed half-way. Nothing is compiled per request.
type Layer interface {
	// Name is the layer's name as used in config, metrics and audit.
	Name() string
}

// HeadersLayer inspects a request's method, route, client address, TLS
// state and headers before the engine reads or parses the body (tx.Request
// is nil). Authentication belongs here, so that anonymous clients cannot
// make the gateway read and parse large bodies, nor learn how it validates
// them.
type HeadersLayer interface {
	Layer
	OnHeaders(tx *Tx) (Decision, error)
}

// RequestLayer inspects (and may modify) the normalised request before it
// goes upstream.
type RequestLayer interface {
	Layer
	OnRequest(tx *Tx) (Decision, error)
}

// ResponseLayer inspects (and may modify) a whole, non-streamed response.
type ResponseLayer interface {
	Layer
	OnResponse(tx *Tx, resp *conv.Response) (Decision, error)
}

// StreamLayer inspects (and may modify) each event of a streamed response as
// it passes. To hold text back (e.g. a secret that may continue in the next
// event), a layer shortens ev.Deltas[i].Text, keeps the rest in its per-
// transaction state (tx.State), and prepends it to a later event. It must
// keep what it holds bounded.
type StreamLayer interface {
	Layer
	OnStreamEvent(tx *Tx, ev *conv.StreamEvent) (Decision, error)
	// OnStreamEnd is called once when the upstream stream ends, with a
	// synthetic event (no upstream data) into which the layer releases any
	// text it still holds. The engine emits the event only if it carries text.
	OnStreamEnd(tx *Tx, ev *conv.StreamEvent) (Decision, error)
}

// FinishLayer is called once per transaction after everything else, also
// after a block, an upstream failure or a panic. It cannot change the answer.
type FinishLayer interface {
	Layer
	OnFinish(tx *Tx)
}

// Provisioner is implemented by layers that need set-up after New.
type Provisioner interface {
	Provision(h *Host) error
}

// ConfigValidator is implemented by layers whose configuration has checks
// beyond decoding. ValidateConfig is pure: it opens no client, file or
// connection and reads no environment, so `rampart config validate` runs
// exactly the checks that serve and a reload run before Provision. It
// reports every problem it finds (joined), each message starting with the
// key path it is about ("rules[2]: ...", "backend \"x\": ...").
type ConfigValidator interface {
	ValidateConfig() error
}

// Validator is implemented by layers that check their provisioned state.
type Validator interface {
	Validate() error
}

// Closer is implemented by layers that hold resources.
type Closer = io.Closer

// Host is what the gateway hands to layers at Provision time.
type Host struct {
	Logger *slog.Logger
	// Registerer is where layers register their own Prometheus metrics.
	Registerer prometheus.Registerer
	// DataDir is the gateway's data directory.
	DataDir string
	// Services are the shared services (store, identity service, block
	// cache, limiter state, ...; see Key, Use and Acquire), reference
	// counted across configurations. What a layer takes through it is
	// held for the configuration's lifetime and released by whoever
	// created the Host (the gateway, when the configuration is closed or
	// fails to build), not by the layer. nil: no shared services; Acquire
	// then hands the layer a value it owns.
	Services *Services
}

// Mode is how a layer's decisions are applied.
type Mode string

const (
	// ModeEnforce applies the layer's decisions.
	ModeEnforce Mode = "enforce"
	// ModeMonitor records what the layer would have done (audit, metrics,
	// logs) and lets the transaction through unchanged.
	ModeMonitor Mode = "monitor"
	// ModeOff does not call the layer at all.
	ModeOff Mode = "off"
)

// FailureMode is what happens when a layer fails internally (returns an
// error or panics).
type FailureMode string

const (
	// FailClosed blocks the transaction with 503 (default).
	FailClosed FailureMode = "closed"
	// FailOpen records the error and lets the transaction continue.
	FailOpen FailureMode = "open"
)

// Module describes one kind of layer for the chain file (layers/chain.go).
type Module struct {
	// Name is the config key under "layers:".
	Name string
	// New builds the layer from its configuration. decode fills the given
	// pointer from the layer's config section and rejects unknown keys; a
	// missing section leaves the pointer's defaults untouched. New must have
	// no side effects.
	New func(decode func(into any) error) (Layer, error)
	// DefaultMode is the mode used when config says nothing.
	DefaultMode Mode
}
