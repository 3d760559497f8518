package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/rampart-ai/rampart/conv"
)

func tracedHarness(t testing.TB, layers ...Configured) (*harness, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	h := &harness{rec: &recorder{}, obs: &observer{}}
	e, err := New(Options{Layers: layers, Recorder: h.rec, Observer: h.obs, ContentKey: testKey, Logger: quiet,
		Routes: []Route{chatRoute, messagesRoute}, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	return h, exp
}

func spanAttr(s tracetest.SpanStub, k attribute.Key) attribute.Value {
	for _, a := range s.Attributes {
		if a.Key == k {
			return a.Value
		}
	}
	return attribute.Value{}
}

// byName indexes spans by name and checks that each but the root is a
// child of the root.
func byName(t *testing.T, spans tracetest.SpanStubs) map[string]tracetest.SpanStub {
	t.Helper()
	out := map[string]tracetest.SpanStub{}
	var root tracetest.SpanStub
	for _, s := range spans {
		if _, dup := out[s.Name]; dup {
			t.Fatalf("two spans named %q", s.Name)
		}
		out[s.Name] = s
		if s.SpanKind == trace.SpanKindServer {
			root = s
		}
	}
	if !root.SpanContext.IsValid() {
		t.Fatalf("no transaction span in %d spans", len(spans))
	}
	for _, s := range spans {
		if s.SpanKind != trace.SpanKindServer && s.Parent.SpanID() != root.SpanContext.SpanID() {
			t.Fatalf("span %q is not a child of the transaction span", s.Name)
		}
	}
	return out
}

func TestTracingOffWithoutProvider(t *testing.T) {
	for name, tp := range map[string]trace.TracerProvider{"none": nil, "noop": noop.NewTracerProvider()} {
		t.Run(name, func(t *testing.T) {
			e, err := New(Options{Logger: quiet, TracerProvider: tp})
			if err != nil {
				t.Fatal(err)
			}
			if e.Tracing() {
				t.Fatal("engine traces without an installed provider")
			}
		})
	}
	h := newHarness(t, enforce(&testLayer{name: "a"}))
	var sawTraceparent string
	up := UpstreamFunc(func(tx *Tx, r *http.Request, body []byte) (*http.Response, error) {
		sawTraceparent = r.Header.Get("Traceparent")
		return jsonUpstream(chatResp).RoundTrip(tx, r, body)
	})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, chatRoute.Path, strings.NewReader(chatReq))
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.e.Handler(chatRoute, up).ServeHTTP(w, r)
	tx := h.rec.one(t)
	if tx.TraceID() != "" || tx.trace != nil || h.e.tr != nil {
		t.Fatalf("untraced transaction has trace id %q", tx.TraceID())
	}
	if sawTraceparent != r.Header.Get("Traceparent") {
		t.Fatalf("upstream saw traceparent %q, want the client's", sawTraceparent)
	}
}

// TestTracingStreamSpans: allowed stream-event calls become one span per
// layer (with the call count); a call that flags gets its own span.
func TestTracingStreamSpans(t *testing.T) {
	l := &testLayer{name: "guard", ev: func(tx *Tx, ev *conv.StreamEvent) (Decision, error) {
		for _, d := range ev.Deltas {
			if strings.Contains(d.Text, "card") {
				return Decision{Action: Flag, Rule: "card-number", Findings: []Finding{{Layer: "guard", Rule: "card-number"}}}, nil
			}
		}
		return Allowed, nil
	}}
	h, exp := tracedHarness(t, enforce(l))
	w := h.do(chatRoute, sseUpstream(streamBody("one", " two", " card", " four")), chatStreamReq)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	var flagged, allowed []tracetest.SpanStub
	var up tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		switch {
		case s.SpanKind == trace.SpanKindClient:
			up = s
		case s.Name == "layer guard stream" && spanAttr(s, AttrAction).AsString() == "flag":
			flagged = append(flagged, s)
		case s.Name == "layer guard stream":
			allowed = append(allowed, s)
		}
	}
	if len(flagged) != 1 || spanAttr(flagged[0], AttrRule).AsString() != "card-number" || spanAttr(flagged[0], AttrFindings).AsInt64() != 1 {
		t.Fatalf("flag spans %+v", flagged)
	}
	// 7 events (4 words, finish, [DONE], the synthetic end) minus the flagged one.
	if len(allowed) != 1 || spanAttr(allowed[0], AttrCalls).AsInt64() < 5 {
		t.Fatalf("want one aggregated allow span, got %d: %+v", len(allowed), allowed)
	}
	// The upstream span lasts until the stream was read to its end.
	if !up.SpanContext.IsValid() || up.EndTime.Before(allowed[0].EndTime) {
		t.Fatalf("upstream span ends %v, before the last stream call %v", up.EndTime, allowed[0].EndTime)
	}
}

func TestTracingLayerFailures(t *testing.T) {
	tests := []struct {
		name      string
		cfg       func(Layer) Configured
		req       func(tx *Tx) (Decision, error)
		status    int
		wantBlock bool
	}{
		{"error fail closed", enforce, func(*Tx) (Decision, error) { return Allowed, errors.New("redis down") }, 503, true},
		{"panic fail closed", enforce, func(*Tx) (Decision, error) { panic("boom") }, 503, true},
		{"error monitor", monitor, func(*Tx) (Decision, error) { return Allowed, errors.New("redis down") }, 200, false},
		{"block monitor", monitor, func(*Tx) (Decision, error) { return Decision{Action: Block, Code: "x"}, nil }, 200, false},
		{"block enforce", enforce, func(*Tx) (Decision, error) { return Decision{Action: Block, Code: "x"}, nil }, 400, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, exp := tracedHarness(t, tt.cfg(&testLayer{name: "lim", req: tt.req}))
			w := h.do(chatRoute, jsonUpstream(chatResp), chatReq)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			spans := byName(t, exp.GetSpans())
			ls := spans["layer lim request"]
			blockEvent := len(ls.Events) == 1 && ls.Events[0].Name == EventBlock
			if blockEvent != tt.wantBlock {
				t.Fatalf("block event %v, want %v (events %v)", blockEvent, tt.wantBlock, ls.Events)
			}
			root := spans["POST /v1/chat/completions"]
			if (root.Status.Code == codes.Error) != tt.wantBlock || spanAttr(root, AttrBlocked).AsBool() != tt.wantBlock {
				t.Fatalf("transaction span status %v blocked %v", root.Status, spanAttr(root, AttrBlocked))
			}
			if strings.Contains(ls.Status.Description, "redis") {
				t.Fatalf("span status leaks the error text: %q", ls.Status.Description)
			}
			_, upstream := spans["upstream POST"]
			if upstream == tt.wantBlock {
				t.Fatalf("upstream span present = %v for a blocked=%v request", upstream, tt.wantBlock)
			}
		})
	}
}

// TestTracingMiddleware: the wrapped handler runs inside the upstream span
// and receives its trace context in the request headers.
func TestTracingMiddleware(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	e, err := New(Options{Logger: quiet, Routes: []Route{chatRoute}, TracerProvider: tp,
		Layers: []Configured{enforce(&testLayer{name: "a"})}})
	if err != nil {
		t.Fatal(err)
	}
	var ctxSpan trace.SpanContext
	var header string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctxSpan = trace.SpanContextFromContext(r.Context())
		header = r.Header.Get("Traceparent")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatResp)
	})
	w := httptest.NewRecorder()
	e.Middleware(next).ServeHTTP(w, httptest.NewRequest(http.MethodPost, chatRoute.Path, bytes.NewReader([]byte(chatReq))))
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	up := byName(t, exp.GetSpans())["upstream POST"]
	if ctxSpan.SpanID() != up.SpanContext.SpanID() {
		t.Fatalf("handler context span %s, want the upstream span %s", ctxSpan.SpanID(), up.SpanContext.SpanID())
	}
	if !strings.Contains(header, up.SpanContext.SpanID().String()) {
		t.Fatalf("handler traceparent %q does not name the upstream span", header)
	}
}

// TestTracingOuterSpan: a span already in the request context (an outer
// instrumented handler) parents the transaction, over a traceparent header.
func TestTracingOuterSpan(t *testing.T) {
	h, exp := tracedHarness(t)
	tid, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	sid, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
	r := httptest.NewRequest(http.MethodPost, chatRoute.Path, strings.NewReader(chatReq)).WithContext(ctx)
	r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.e.Handler(chatRoute, jsonUpstream(chatResp)).ServeHTTP(httptest.NewRecorder(), r)
	root := byName(t, exp.GetSpans())["POST /v1/chat/completions"]
	if root.Parent.SpanID() != sid || root.SpanContext.TraceID() != tid {
		t.Fatalf("transaction parent %s in trace %s", root.Parent.SpanID(), root.SpanContext.TraceID())
	}
	tx := h.rec.one(t)
	if got := tx.TraceID(); got != tid.String() {
		t.Fatalf("Tx.TraceID = %q", got)
	}
}

// discardExporter drops spans (benchmarks measure the engine's side).
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkRequestFiveLayersTraced is BenchmarkRequestFiveLayers with
// tracing on: every transaction sampled, or none (sample ratio 0).
func BenchmarkRequestFiveLayersTraced(b *testing.B) {
	for _, tc := range []struct {
		name    string
		sampler sdktrace.Sampler
	}{
		{"Sampled", sdktrace.AlwaysSample()},
		{"NotSampled", sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler), sdktrace.WithBatcher(discardExporter{}))
			defer tp.Shutdown(context.Background())
			var ls []Configured
			for _, n := range []string{"a", "b", "c", "d", "e"} {
				ls = append(ls, enforce(&testLayer{name: n}))
			}
			e, _ := New(Options{Logger: quiet, ContentKey: testKey, Layers: ls, TracerProvider: tp})
			benchServe(b, e, &staticUpstream{ctype: "application/json", body: []byte(chatResp)}, benchBody())
		})
	}
}
