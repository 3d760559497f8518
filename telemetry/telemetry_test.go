package telemetry

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/rampart-ai/rampart/config"
)

func enabled(mod func(*config.Telemetry)) config.Telemetry {
	c := config.Default().Telemetry
	c.Enabled = true
	if mod != nil {
		mod(&c)
	}
	return c
}

func TestOffByDefault(t *testing.T) {
	tr, err := New(context.Background(), config.Default().Telemetry, Options{Exporter: tracetest.NewInMemoryExporter()})
	if err != nil || tr != nil {
		t.Fatalf("New(default) = %v, %v; want nil, nil", tr, err)
	}
}

// keptExporter keeps its spans after Shutdown (the in-memory exporter
// clears them there).
type keptExporter struct{ *tracetest.InMemoryExporter }

func (keptExporter) Shutdown(context.Context) error { return nil }

func TestSpansFlushedOnClose(t *testing.T) {
	exp := keptExporter{tracetest.NewInMemoryExporter()}
	tr, err := New(context.Background(), enabled(nil), Options{Exporter: exp, Version: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "work")
	span.End()
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d spans exported before the batch was due", n)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "work" {
		t.Fatalf("after Close: %v", spans)
	}
	var name, version string
	for _, a := range spans[0].Resource.Attributes() {
		switch a.Key {
		case "service.name":
			name = a.Value.AsString()
		case "service.version":
			version = a.Value.AsString()
		}
	}
	if name != "rampart" || version != "v9.9.9" {
		t.Fatalf("resource service.name %q, service.version %q", name, version)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestParentBasedSampling: with sample_ratio 0 new traces are not
// recorded, but a caller's sampled trace is, and an unsampled one is not.
func TestParentBasedSampling(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	zero := 0.0
	tr, err := New(context.Background(), enabled(func(c *config.Telemetry) { c.SampleRatio = &zero }), Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tracer := tr.TracerProvider().Tracer("test")
	remote := func(flags string) context.Context {
		h := http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-" + flags}}
		return tr.Propagator().Extract(context.Background(), propagation.HeaderCarrier(h))
	}
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"new trace", context.Background(), false},
		{"sampled parent", remote("01"), true},
		{"unsampled parent", remote("00"), false},
	}
	for _, tt := range tests {
		_, span := tracer.Start(tt.ctx, tt.name)
		if span.IsRecording() != tt.want {
			t.Errorf("%s: recording = %v, want %v", tt.name, span.IsRecording(), tt.want)
		}
		span.End()
	}
}

func TestNewErrors(t *testing.T) {
	getenv := func(k string) string {
		if k == "BAD_HEADERS" {
			return "token=s3cr3t%zz"
		}
		return ""
	}
	tests := []struct {
		name string
		mod  func(*config.Telemetry)
		want string
	}{
		{"bad headers", func(c *config.Telemetry) { c.HeadersEnv = "BAD_HEADERS" }, "headers_env BAD_HEADERS"},
		{"bad protocol", func(c *config.Telemetry) { c.Protocol = "http/json" }, "unknown protocol"},
		{"bad ratio", func(c *config.Telemetry) { r := 2.0; c.SampleRatio = &r }, "sample_ratio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Getenv: getenv}
			if tt.name == "bad ratio" {
				opts.Exporter = tracetest.NewInMemoryExporter()
			}
			tr, err := New(context.Background(), enabled(tt.mod), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("New = %v, %v; want an error about %q", tr, err, tt.want)
			}
		})
	}
}

func TestInstallRestores(t *testing.T) {
	prev := otel.GetTracerProvider()
	tr, err := New(context.Background(), enabled(nil), Options{Exporter: tracetest.NewInMemoryExporter()})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	restore := tr.Install()
	if otel.GetTracerProvider() != tr.TracerProvider() {
		t.Fatal("Install did not set the global tracer provider")
	}
	if fields := otel.GetTextMapPropagator().Fields(); len(fields) == 0 || fields[0] != "traceparent" {
		t.Fatalf("global propagator fields = %v", fields)
	}
	restore()
	if otel.GetTracerProvider() != prev {
		t.Fatal("restore did not put the previous provider back")
	}
}

// TestOTLPHTTPExport sends a span through the real OTLP/HTTP exporter to
// an httptest collector.
func TestOTLPHTTPExport(t *testing.T) {
	type got struct {
		path, ctype, token string
		spans              []string
	}
	ch := make(chan got, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		g := got{path: r.URL.Path, ctype: r.Header.Get("Content-Type"), token: r.Header.Get("Api-Key")}
		if proto.Unmarshal(b, &req) == nil {
			for _, rs := range req.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					for _, s := range ss.Spans {
						g.spans = append(g.spans, s.Name)
					}
				}
			}
		}
		ch <- g
	}))
	defer srv.Close()
	cfg := enabled(func(c *config.Telemetry) {
		c.Endpoint = strings.TrimPrefix(srv.URL, "http://")
		c.Insecure = true
		c.URLPath = "/otlp/v1/traces"
		c.HeadersEnv = "H"
	})
	tr, err := New(context.Background(), cfg, Options{Getenv: func(string) string { return "api-key=k1" }})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "exported")
	span.End()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-ch:
		if g.path != "/otlp/v1/traces" || g.ctype != "application/x-protobuf" || g.token != "k1" ||
			len(g.spans) != 1 || g.spans[0] != "exported" {
			t.Fatalf("collector got %+v", g)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no export arrived")
	}
}

// grpcCollector is an OTLP/gRPC trace service.
type grpcCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []string
	token string
}

func (c *grpcCollector) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("api-key")) > 0 {
		c.token = md.Get("api-key")[0]
	}
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans = append(c.spans, s.Name)
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// TestOTLPGRPCExport sends a span through the real OTLP/gRPC exporter to a
// gRPC trace service on a local port.
func TestOTLPGRPCExport(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &grpcCollector{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, col)
	go srv.Serve(ln)
	defer srv.Stop()
	cfg := enabled(func(c *config.Telemetry) {
		c.Protocol = config.TelemetryGRPC
		c.Endpoint = ln.Addr().String()
		c.Insecure = true
		c.HeadersEnv = "H"
	})
	tr, err := New(context.Background(), cfg, Options{Getenv: func(string) string { return "api-key=k2" }})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "over-grpc")
	span.End()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.spans) != 1 || col.spans[0] != "over-grpc" || col.token != "k2" {
		t.Fatalf("collector got spans %v, api-key %q", col.spans, col.token)
	}
}

// TestUnreachableCollector: export failures neither block nor fail the
// caller beyond the export timeout; Close reports the failed flush.
func TestUnreachableCollector(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	cfg := enabled(func(c *config.Telemetry) {
		c.Endpoint = addr
		c.Insecure = true
		c.ExportTimeout = 300 * time.Millisecond
	})
	tr, err := New(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tracer := tr.TracerProvider().Tracer("test")
	start := time.Now()
	for i := 0; i < 100; i++ {
		_, span := tracer.Start(context.Background(), "x")
		span.End()
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("ending spans took %s with the collector down", d)
	}
	start = time.Now()
	err = tr.Close()
	if err == nil {
		t.Fatal("Close reported no error although the collector is unreachable")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %s, want about the export timeout", d)
	}
}

func TestErrorLoggerRateLimited(t *testing.T) {
	var buf strings.Builder
	h := &errorLogger{log: slog.New(slog.NewTextHandler(&buf, nil))}
	for i := 0; i < 5; i++ {
		h.Handle(errors.New("collector down"))
	}
	if n := strings.Count(buf.String(), "collector down"); n != 1 {
		t.Fatalf("%d lines within one interval, want 1:\n%s", n, buf.String())
	}
	h.last.Store(time.Now().Add(-2 * errorInterval).UnixNano())
	h.Handle(errors.New("still down"))
	if !strings.Contains(buf.String(), "still down") || !strings.Contains(buf.String(), "suppressed=4") {
		t.Fatalf("after the interval:\n%s", buf.String())
	}
}
