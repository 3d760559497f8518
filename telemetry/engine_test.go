package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/conv"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/provider/openai"
)

const (
	clientTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientParent = "00-" + clientTrace + "-00f067aa0ba902b7-01"
	chatAnswer   = `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
)

// serveOnce sends one chat request with the client's traceparent through
// an engine that uses the globally installed provider and propagator, and
// returns the transaction's trace id and the traceparent sent upstream.
func serveOnce(t *testing.T) (traceID, upstreamParent string) {
	t.Helper()
	route := engine.Route{Path: "/v1/chat/completions", Kind: conv.KindChat, Adapter: openai.New()}
	var rec recorder
	e, err := engine.New(engine.Options{Logger: slog.New(slog.DiscardHandler), Routes: []engine.Route{route}, Recorder: &rec})
	if err != nil {
		t.Fatal(err)
	}
	if !e.Tracing() {
		t.Fatal("engine does not pick up the installed provider")
	}
	up := engine.UpstreamFunc(func(tx *engine.Tx, r *http.Request, body []byte) (*http.Response, error) {
		upstreamParent = r.Header.Get("Traceparent")
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(chatAnswer)), ContentLength: -1}, nil
	})
	r := httptest.NewRequest(http.MethodPost, route.Path, strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	r.Header.Set("Traceparent", clientParent)
	w := httptest.NewRecorder()
	e.Handler(route, up).ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	return rec.traceID, upstreamParent
}

type recorder struct{ traceID string }

func (r *recorder) Record(tx *engine.Tx) { r.traceID = tx.TraceID() }

// TestContinueClientTraces: by default a client's trace continues through
// the engine; with continue_client_traces off each request starts a new
// trace, and the upstream still gets rampart's own trace context.
func TestContinueClientTraces(t *testing.T) {
	for _, cont := range []bool{true, false} {
		t.Run(map[bool]string{true: "continue", false: "new trace"}[cont], func(t *testing.T) {
			tr, err := New(context.Background(), enabled(func(c *config.Telemetry) { c.ContinueClientTraces = &cont }),
				Options{Exporter: tracetest.NewInMemoryExporter()})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			restore := tr.Install()
			defer restore()
			id, parent := serveOnce(t)
			if (id == clientTrace) != cont {
				t.Fatalf("trace id %s, client's %s, continue %v", id, clientTrace, cont)
			}
			if !strings.HasPrefix(parent, "00-"+id+"-") || parent == clientParent {
				t.Fatalf("upstream traceparent %q, want rampart's span in trace %s", parent, id)
			}
		})
	}
}
