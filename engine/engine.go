package engine

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"sync"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/provider"
)

// Defaults used when Options leave a limit at zero.
const (
	DefaultMaxBodyBytes     = 10 << 20
	DefaultMaxResponseBytes = 32 << 20
	// DefaultMaxEventBytes bounds one server-sent event of a stream.
	DefaultMaxEventBytes = 1 << 20
)

// Configured is one layer of the chain with how its decisions apply.
type Configured struct {
	Layer   Layer
	Mode    Mode        // "" means enforce
	Failure FailureMode // "" means closed
}

// Route is one API route the engine understands.
type Route struct {
	// Path is the URL path, e.g. "/v1/chat/completions"; it becomes Tx.Route.
	Path string
	// Kind is the kind of call served there.
	Kind conv.Kind
	// Adapter translates the route's provider JSON.
	Adapter provider.Adapter
	// FromRequest, when set, completes the parsed conversation from the
	// request itself, before any layer runs: routes that name the model
	// in the path (Gemini's /v1beta/models/{model}:generateContent) set
	// Conversation.Model and Stream here. An error is *provider.Error.
	FromRequest func(r *http.Request, c *conv.Conversation) error
	// ArrayStream, when set and true for a request, sends the stream to
	// the client as one JSON array whose elements are the events' data
	// (Gemini's streamGenerateContent without alt=sse) instead of
	// server-sent events. The upstream stream is still read as SSE.
	ArrayStream func(r *http.Request) bool
}

// Options configure an Engine.
type Options struct {
	// Layers is the chain, in order.
	Layers []Configured
	// Routes are the routes Middleware recognises by URL path; requests to
	// other paths pass to the wrapped handler untouched. Handler takes its
	// route directly.
	Routes []Route
	// Recorder receives every finished transaction (audit). Optional.
	Recorder Recorder
	// Observer receives timings and counts (metrics). Optional.
	Observer Observer
	// Pricer prices each transaction's usage into Tx.Cost. Optional.
	Pricer Pricer
	// MaxBodyBytes caps a request body (413 past it). Default 10 MiB.
	MaxBodyBytes int64
	// MaxResponseBytes caps a whole non-streamed response (502 past it).
	// Default 32 MiB.
	MaxResponseBytes int64
	// MaxEventBytes caps one server-sent event. Default 1 MiB.
	MaxEventBytes int
	// ContentKey is the key of Tx.ContentMAC (HMAC-SHA256 of the request
	// body). Empty: a random key for the engine's lifetime.
	ContentKey []byte
	// Logger receives engine logs (never prompt text). Default slog.Default().
	// Request-path logs carry the request context, so a handler that reads
	// it (telemetry.LogHandler) adds the trace and span ids.
	Logger *slog.Logger
	// TracerProvider, when set, makes the engine trace every transaction:
	// a span for the transaction, one per layer phase call and one for the
	// upstream call. Nil: the OpenTelemetry global provider if an
	// application installed one (otel.SetTracerProvider), else no tracing
	// at all (no spans, no cost beyond a nil check).
	TracerProvider trace.TracerProvider
	// Propagator reads the client's trace context and writes the upstream
	// call's. Nil: the OpenTelemetry global propagator if an application
	// installed one, else W3C Trace Context (traceparent, tracestate).
	Propagator propagation.TextMapPropagator
}

type slot struct {
	name    string
	monitor bool
	open    bool // fail open
	hdr     HeadersLayer
	req     RequestLayer
	resp    ResponseLayer
	stream  StreamLayer
	fin     FinishLayer
}

// Engine runs the chain. It is safe for concurrent use.
type Engine struct {
	slots     []slot
	hasResp   bool
	hasStream bool
	routes    map[string]*Route
	rec       Recorder
	pricer    Pricer
	obs       Observer
	log       *slog.Logger
	maxBody   int64
	maxResp   int64
	maxEvent  int
	macPool   sync.Pool
	bufPool   sync.Pool
	tr        *tracing   // nil: tracing off
	txObs     TxObserver // Observer's optional extension, or nil
}

// New checks the chain and returns an Engine.
func New(opts Options) (*Engine, error) {
	e := &Engine{
		rec:      opts.Recorder,
		pricer:   opts.Pricer,
		obs:      opts.Observer,
		log:      opts.Logger,
		maxBody:  opts.MaxBodyBytes,
		maxResp:  opts.MaxResponseBytes,
		maxEvent: opts.MaxEventBytes,
		routes:   make(map[string]*Route, len(opts.Routes)),
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.maxBody <= 0 {
		e.maxBody = DefaultMaxBodyBytes
	}
	if e.maxResp <= 0 {
		e.maxResp = DefaultMaxResponseBytes
	}
	if e.maxEvent <= 0 {
		e.maxEvent = DefaultMaxEventBytes
	}
	key := opts.ContentKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("engine: content key: %w", err)
		}
	} else {
		key = append([]byte(nil), key...)
	}
	e.macPool.New = func() any { return hmac.New(sha256.New, key) }
	e.bufPool.New = func() any { b := make([]byte, 0, 16<<10); return &b }

	seen := map[string]bool{}
	for i, c := range opts.Layers {
		if c.Layer == nil {
			return nil, fmt.Errorf("engine: layer %d is nil", i)
		}
		name := c.Layer.Name()
		if name == "" {
			return nil, fmt.Errorf("engine: layer %d has no name", i)
		}
		if seen[name] {
			return nil, fmt.Errorf("engine: layer %q appears twice", name)
		}
		seen[name] = true
		s := slot{name: name}
		switch c.Mode {
		case ModeOff:
			continue
		case ModeMonitor:
			s.monitor = true
		case ModeEnforce, "":
		default:
			return nil, fmt.Errorf("engine: layer %q: unknown mode %q", name, c.Mode)
		}
		switch c.Failure {
		case FailOpen:
			s.open = true
		case FailClosed, "":
		default:
			return nil, fmt.Errorf("engine: layer %q: unknown failure mode %q", name, c.Failure)
		}
		s.hdr, _ = c.Layer.(HeadersLayer)
		s.req, _ = c.Layer.(RequestLayer)
		s.resp, _ = c.Layer.(ResponseLayer)
		s.stream, _ = c.Layer.(StreamLayer)
		s.fin, _ = c.Layer.(FinishLayer)
		if s.resp != nil && s.stream == nil {
			return nil, fmt.Errorf("engine: layer %q inspects whole responses but not streams; stream: true would skip it", name)
		}
		e.hasResp = e.hasResp || s.resp != nil
		e.hasStream = e.hasStream || s.stream != nil
		e.slots = append(e.slots, s)
	}
	e.tr = newTracing(opts, e.slots)
	e.txObs, _ = opts.Observer.(TxObserver)
	for i := range opts.Routes {
		r := opts.Routes[i]
		if r.Adapter == nil || r.Path == "" {
			return nil, errors.New("engine: a route needs a path and an adapter")
		}
		e.routes[r.Path] = &r
	}
	return e, nil
}

// Layers returns the names of the active (not off) layers in chain order.
func (e *Engine) Layers() []string {
	out := make([]string, len(e.slots))
	for i := range e.slots {
		out[i] = e.slots[i].name
	}
	return out
}

// contentMAC returns the hex HMAC-SHA256 of body.
func (e *Engine) contentMAC(body []byte) string {
	h := e.macPool.Get().(hash.Hash)
	h.Reset()
	h.Write(body)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], h.Sum(sum[:0]))
	e.macPool.Put(h)
	return string(out[:])
}

// NewRequestID returns a random request id ("req_" and 24 hex digits).
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	var out [4 + 24]byte
	copy(out[:], "req_")
	hex.Encode(out[4:], b[:])
	return string(out[:])
}

func (e *Engine) getBuf() *[]byte { return e.bufPool.Get().(*[]byte) }

func (e *Engine) putBuf(b *[]byte) {
	if cap(*b) > 4<<20 {
		return // let huge buffers go
	}
	*b = (*b)[:0]
	e.bufPool.Put(b)
}
