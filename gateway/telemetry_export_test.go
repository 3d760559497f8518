package gateway

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/rampart-ai/rampart/config"
)

// collector is an OTLP/HTTP trace collector: it decodes every export.
type collector struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	exports  []*coltracepb.ExportTraceServiceRequest
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.requests = append(c.requests, r)
		c.exports = append(c.exports, &req)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *collector) addr() string { return strings.TrimPrefix(c.srv.URL, "http://") }

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.requests)
}

// TestOTLPExportFromConfig builds a gateway with telemetry enabled in its
// config, pointed at an OTLP/HTTP collector, and checks that Close flushes
// the request's spans there: POST /v1/traces, protobuf, the configured
// header, the service name, and the transaction, layer and upstream spans.
func TestOTLPExportFromConfig(t *testing.T) {
	col := newCollector(t)
	var up tracedUpstream
	t.Setenv("RAMPART_TEST_OTLP_HEADERS", "X-Collector-Token=tok%20123,x-tenant=eu")
	cfg := config.Default()
	cfg.Telemetry.Enabled = true
	cfg.Telemetry.Endpoint = col.addr()
	cfg.Telemetry.Insecure = true
	cfg.Telemetry.HeadersEnv = "RAMPART_TEST_OTLP_HEADERS"
	cfg.Telemetry.ServiceName = "rampart-test"
	cfg.Upstreams = []config.Upstream{{Name: "oa", Provider: "openai", BaseURL: up.server(t).URL + "/v1"}}
	g := newGateway(t, cfg, WithLogger(slog.New(slog.DiscardHandler)))
	if !g.Engine().Tracing() {
		t.Fatal("telemetry.enabled did not turn tracing on")
	}
	w := post(t, g, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	if err := g.Close(); err != nil { // flushes the batch
		t.Fatal(err)
	}
	if col.count() == 0 {
		t.Fatal("no export reached the collector")
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	r := col.requests[0]
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" ||
		r.Header.Get("X-Collector-Token") != "tok 123" || r.Header.Get("X-Tenant") != "eu" {
		t.Fatalf("export request %s %s, headers %v", r.Method, r.URL.Path, r.Header)
	}
	names := map[string]bool{}
	service := ""
	for _, exp := range col.exports {
		for _, rs := range exp.ResourceSpans {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names[s.Name] = true
				}
			}
		}
	}
	if service != "rampart-test" {
		t.Fatalf("service.name = %q", service)
	}
	for _, want := range []string{"POST /v1/chat/completions", "upstream POST", "layer identity headers", "layer injection request"} {
		if !names[want] {
			t.Errorf("no exported span %q (have %v)", want, names)
		}
	}
}
