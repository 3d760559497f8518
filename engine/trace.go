package engine

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the OpenTelemetry instrumentation scope of the engine's spans.
const TracerName = "github.com/rampart-ai/rampart/engine"

// Span attribute keys. Values are names, ids and counts, never prompt or
// answer text, keys or tokens.
const (
	AttrRequestID  = attribute.Key("rampart.request_id")
	AttrLayer      = attribute.Key("rampart.layer")
	AttrPhase      = attribute.Key("rampart.phase")
	AttrAction     = attribute.Key("rampart.action")
	AttrMonitor    = attribute.Key("rampart.monitor")
	AttrRule       = attribute.Key("rampart.rule")
	AttrCode       = attribute.Key("rampart.code")
	AttrFindings   = attribute.Key("rampart.findings")
	AttrCalls      = attribute.Key("rampart.stream.calls")
	AttrUpstream   = attribute.Key("rampart.upstream")
	AttrBlocked    = attribute.Key("rampart.blocked")
	AttrModel      = attribute.Key("gen_ai.request.model")
	AttrMethod     = attribute.Key("http.request.method")
	AttrRoute      = attribute.Key("http.route")
	AttrStatusCode = attribute.Key("http.response.status_code")
)

// EventBlock is the span event added where a layer blocked a transaction
// (on the layer's span and on the transaction's span).
const EventBlock = "rampart.block"

// tracing is the engine's OpenTelemetry set-up; nil when tracing is off,
// so that the untraced path costs one nil check per phase call.
type tracing struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// layers are the slots' layer names; names[slot][phase] are the layer
	// span names, built once.
	layers []string
	names  [][phaseCount]string
}

// phaseCount is the number of phases; phaseIndex maps a Phase into it.
const phaseCount = 5

func phaseIndex(p Phase) int {
	switch p {
	case PhaseHeaders:
		return 0
	case PhaseRequest:
		return 1
	case PhaseResponse:
		return 2
	case PhaseStream:
		return 3
	}
	return 4
}

// newTracing returns the tracing set-up for opts, or nil when tracing is
// off: no TracerProvider in opts and none installed globally (the OTel
// global is still its default, or a no-op provider).
func newTracing(opts Options, slots []slot) *tracing {
	tp := opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
		if !installed(tp) {
			return nil
		}
	}
	if _, ok := tp.(noop.TracerProvider); ok {
		return nil
	}
	prop := opts.Propagator
	if prop == nil {
		if p := otel.GetTextMapPropagator(); installed(p) {
			prop = p
		} else {
			prop = propagation.TraceContext{}
		}
	}
	t := &tracing{tracer: tp.Tracer(TracerName), prop: prop,
		layers: make([]string, len(slots)), names: make([][phaseCount]string, len(slots))}
	for i := range slots {
		t.layers[i] = slots[i].name
		for _, p := range []Phase{PhaseHeaders, PhaseRequest, PhaseResponse, PhaseStream, PhaseFinish} {
			t.names[i][phaseIndex(p)] = "layer " + slots[i].name + " " + string(p)
		}
	}
	return t
}

// installed reports whether v (a tracer provider or propagator) is one an
// application installed with otel.SetTracerProvider or
// otel.SetTextMapPropagator, rather than the OTel global default (which
// lives in go.opentelemetry.io/otel/internal/global and does nothing until
// one is installed).
func installed(v any) bool {
	t := reflect.TypeOf(v)
	if t == nil {
		return false
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() != "go.opentelemetry.io/otel/internal/global"
}

// Tracing reports whether the engine creates spans.
func (e *Engine) Tracing() bool { return e.tr != nil }

// TraceID returns the transaction's trace id (32 hex digits), or "" when
// it has none (tracing off and no span in the request context).
func (tx *Tx) TraceID() string {
	if tx.Ctx == nil {
		return ""
	}
	sc := trace.SpanContextFromContext(tx.Ctx)
	if !sc.TraceID().IsValid() {
		return ""
	}
	return sc.TraceID().String()
}

// traceState is a transaction's tracing state (only when tracing is on).
type traceState struct {
	span trace.Span
	ctx  context.Context // the request context with span
	rec  bool            // span records: layer spans are worth making
	// stream aggregates allowed stream-event calls per slot into one span.
	stream []streamSpan
}

// streamSpan covers one layer's allowed stream-event calls.
type streamSpan struct {
	first, last time.Time
	calls       int
}

// startTx starts the transaction's span, continuing a W3C trace context
// from the client's headers unless the request context already carries a
// span (an outer instrumented handler), and makes tx.Ctx carry it.
func (tr *tracing) startTx(tx *Tx, r *http.Request) {
	ctx := r.Context()
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = tr.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	ctx, span := tr.tracer.Start(ctx, r.Method+" "+tx.Route,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(tx.Start),
		trace.WithAttributes(AttrMethod.String(r.Method), AttrRoute.String(tx.Route), AttrRequestID.String(tx.ID)))
	tx.Ctx = ctx
	tx.trace = &traceState{span: span, ctx: ctx, rec: span.IsRecording()}
}

// endTx ends the transaction's span with its outcome.
func (tr *tracing) endTx(tx *Tx) {
	ts := tx.trace
	ts.flushStream(tr)
	span := ts.span
	if ts.rec {
		attrs := []attribute.KeyValue{AttrStatusCode.Int(tx.Status), AttrBlocked.Bool(tx.Blocked)}
		if tx.Request != nil && tx.Request.Model != "" {
			attrs = append(attrs, AttrModel.String(tx.Request.Model))
		}
		if tx.Upstream != "" {
			attrs = append(attrs, AttrUpstream.String(tx.Upstream))
		}
		span.SetAttributes(attrs...)
		if tx.Blocked {
			for i := len(tx.Outcomes) - 1; i >= 0; i-- {
				o := &tx.Outcomes[i]
				if o.Action == "block" && !o.Monitor {
					span.AddEvent(EventBlock, trace.WithAttributes(AttrLayer.String(o.Layer),
						AttrPhase.String(string(o.Phase)), AttrCode.String(o.Code)))
					span.SetStatus(codes.Error, "blocked by "+o.Layer+": "+o.Code)
					break
				}
			}
		} else if tx.Status >= 500 {
			span.SetStatus(codes.Error, "status "+strconv.Itoa(tx.Status))
		}
	}
	span.End()
}

// layer records one layer phase call as a child span of the transaction,
// after the fact (start t0, duration dur), so that the untraced path
// needs nothing around the call itself.
func (tr *tracing) layer(tx *Tx, si int, s *slot, p Phase, t0 time.Time, dur time.Duration, d Decision, err error, stopped bool) {
	ts := tx.trace
	if !ts.rec {
		return
	}
	action := d.Action.String()
	if err != nil {
		action = "error"
	}
	_, span := tr.tracer.Start(ts.ctx, tr.names[si][phaseIndex(p)],
		trace.WithTimestamp(t0),
		trace.WithAttributes(AttrLayer.String(s.name), AttrPhase.String(string(p)),
			AttrAction.String(action), AttrMonitor.Bool(s.monitor)))
	if d.Rule != "" {
		span.SetAttributes(AttrRule.String(d.Rule))
	}
	if len(d.Findings) > 0 {
		span.SetAttributes(AttrFindings.Int(len(d.Findings)))
	}
	switch {
	case err != nil:
		// The error text may name internals; the audit record keeps it.
		span.SetStatus(codes.Error, "layer failed")
		if stopped {
			span.SetAttributes(AttrCode.String(CodeLayerUnavailable))
			span.AddEvent(EventBlock, trace.WithAttributes(AttrCode.String(CodeLayerUnavailable)))
		}
	case d.Action == Block:
		code := d.Code
		if code == "" {
			code = CodeBlocked
		}
		span.SetAttributes(AttrCode.String(code))
		if stopped {
			span.AddEvent(EventBlock, trace.WithAttributes(AttrCode.String(code)))
			span.SetStatus(codes.Error, "blocked: "+code)
		}
	}
	span.End(trace.WithTimestamp(t0.Add(dur)))
}

// streamCall notes one allowed stream-event call of slot si, to be
// recorded as one span per layer when the stream ends.
func (ts *traceState) streamCall(n, si int, t0 time.Time, dur time.Duration) {
	if !ts.rec {
		return
	}
	if ts.stream == nil {
		ts.stream = make([]streamSpan, n)
	}
	st := &ts.stream[si]
	if st.calls == 0 {
		st.first = t0
	}
	st.last = t0.Add(dur)
	st.calls++
}

// flushStream records the aggregated stream spans.
func (ts *traceState) flushStream(tr *tracing) {
	for i := range ts.stream {
		st := &ts.stream[i]
		if st.calls == 0 {
			continue
		}
		_, span := tr.tracer.Start(ts.ctx, tr.names[i][phaseIndex(PhaseStream)],
			trace.WithTimestamp(st.first),
			trace.WithAttributes(AttrLayer.String(tr.layers[i]), AttrPhase.String(string(PhaseStream)),
				AttrAction.String("allow"), AttrCalls.Int(st.calls)))
		span.End(trace.WithTimestamp(st.last))
		*st = streamSpan{}
	}
}

// startUpstream starts the upstream call's span as a child of the
// transaction and returns the request to hand to the Upstream: a shallow
// copy whose context carries the span and whose headers carry its W3C
// trace context (traceparent, tracestate) instead of the client's.
func (tr *tracing) startUpstream(tx *Tx, r *http.Request) (*http.Request, trace.Span) {
	ctx, span := tr.tracer.Start(tx.trace.ctx, "upstream "+r.Method,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(AttrMethod.String(r.Method), AttrRoute.String(tx.Route)))
	h := r.Header.Clone()
	for _, f := range tr.prop.Fields() {
		h.Del(f)
	}
	tr.prop.Inject(ctx, propagation.HeaderCarrier(h))
	r2 := r.WithContext(ctx)
	r2.Header = h
	tx.Ctx = ctx
	return r2, span
}

// endUpstream finishes the upstream span once the call failed, or wraps
// the response body so that the span ends when the body is closed (for a
// stream: when the stream ends).
func (tr *tracing) endUpstream(tx *Tx, span trace.Span, resp *http.Response, err error) {
	tx.Ctx = tx.trace.ctx
	if tx.Upstream != "" {
		span.SetAttributes(AttrUpstream.String(tx.Upstream))
	}
	if err != nil {
		he := asHTTPError(err)
		span.SetAttributes(AttrCode.String(he.Code))
		span.SetStatus(codes.Error, "upstream call failed: "+he.Code)
		span.End()
		return
	}
	span.SetAttributes(AttrStatusCode.Int(resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, "upstream status "+strconv.Itoa(resp.StatusCode))
	}
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
}

// spanBody ends its span when the response body is closed.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.span.End() })
	return err
}
