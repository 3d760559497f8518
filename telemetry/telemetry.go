package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/rampart-ai/rampart/config"
)

// Options are what New needs besides the configuration.
type Options struct {
	// Version is the service.version resource attribute (e.g. the build's
	// version). Empty: not set.
	Version string
	// Getenv looks up telemetry.headers_env. Default os.Getenv.
	Getenv func(string) string
	// Exporter replaces the OTLP exporter (tests, embedders with their own
	// exporter). Spans still pass the batching processor and the sampler.
	Exporter sdktrace.SpanExporter
	// Logger receives export failures (rate-limited to one per
	// errorInterval) when Install routes OpenTelemetry's errors to it.
	// Default slog.Default().
	Logger *slog.Logger
}

// Tracing is a configured OpenTelemetry tracer provider. Close flushes
// spans still queued and stops the exporter.
type Tracing struct {
	tp      *sdktrace.TracerProvider
	prop    propagation.TextMapPropagator
	timeout time.Duration
	log     *slog.Logger
	once    sync.Once
	err     error
}

// New builds the tracer provider that cfg describes, or returns nil (and no
// error) when tracing is off. It opens no connection: the exporters dial
// lazily, and an unreachable collector costs dropped spans (the failures
// are logged), never failed or slower requests.
func New(ctx context.Context, cfg config.Telemetry, o Options) (*Tracing, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	timeout := cfg.ExportTimeout
	if timeout <= 0 {
		timeout = config.DefaultTelemetryExportTimeout
	}
	exp := o.Exporter
	if exp == nil {
		var err error
		if exp, err = newExporter(ctx, cfg, timeout, o.Getenv); err != nil {
			return nil, err
		}
	}
	name := cfg.ServiceName
	if name == "" {
		name = config.DefaultTelemetryServiceName
	}
	// OTEL_RESOURCE_ATTRIBUTES (e.g. deployment.environment.name=prod) is
	// read first; the configured service name and version win over it.
	attrs := []resource.Option{resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithSchemaURL(semconv.SchemaURL), resource.WithAttributes(semconv.ServiceName(name))}
	if o.Version != "" {
		attrs = append(attrs, resource.WithAttributes(semconv.ServiceVersion(o.Version)))
	}
	res, err := resource.New(ctx, attrs...)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	ratio := cfg.Ratio()
	if !(ratio >= 0 && ratio <= 1) {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("telemetry: sample_ratio %v is not between 0 and 1", ratio)
	}
	tp := sdktrace.NewTracerProvider(
		// The batcher's queue is bounded (2048 spans by default): when the
		// collector is slow or down, spans are dropped, requests never wait.
		sdktrace.WithBatcher(exp, sdktrace.WithExportTimeout(timeout)),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	var prop propagation.TextMapPropagator = propagation.TraceContext{}
	if !cfg.ContinuesClientTraces() {
		prop = injectOnly{prop}
	}
	return &Tracing{tp: tp, prop: prop, timeout: timeout, log: o.Logger}, nil
}

func newExporter(ctx context.Context, cfg config.Telemetry, timeout time.Duration, getenv func(string) string) (sdktrace.SpanExporter, error) {
	var headers map[string]string
	if cfg.HeadersEnv != "" {
		h, err := ParseHeaders(getenv(cfg.HeadersEnv))
		if err != nil {
			// The value may be a credential: name the variable, not its content.
			return nil, fmt.Errorf("telemetry: headers_env %s: %w", cfg.HeadersEnv, err)
		}
		headers = h
	}
	switch cfg.Protocol {
	case config.TelemetryHTTP, "":
		opts := []otlptracehttp.Option{otlptracehttp.WithTimeout(timeout)}
		if cfg.Endpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpoint(cfg.Endpoint))
		}
		if cfg.URLPath != "" {
			opts = append(opts, otlptracehttp.WithURLPath(cfg.URLPath))
		}
		if cfg.Insecure {
			opts = append(opts, otlptracehttp.WithInsecure())
		}
		if headers != nil {
			opts = append(opts, otlptracehttp.WithHeaders(headers))
		}
		exp, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp http exporter: %w", err)
		}
		return exp, nil
	case config.TelemetryGRPC:
		opts := []otlptracegrpc.Option{otlptracegrpc.WithTimeout(timeout)}
		if cfg.Endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpoint(cfg.Endpoint))
		}
		if cfg.Insecure {
			opts = append(opts, otlptracegrpc.WithInsecure())
		}
		if headers != nil {
			opts = append(opts, otlptracegrpc.WithHeaders(headers))
		}
		exp, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: otlp grpc exporter: %w", err)
		}
		return exp, nil
	}
	return nil, fmt.Errorf("telemetry: unknown protocol %q (want %s or %s)", cfg.Protocol, config.TelemetryHTTP, config.TelemetryGRPC)
}

// TracerProvider is the provider to hand to engine.Options.TracerProvider.
func (t *Tracing) TracerProvider() trace.TracerProvider { return t.tp }

// Propagator is W3C Trace Context (traceparent, tracestate); with
// continue_client_traces off it writes trace context but reads none.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.prop }

// injectOnly writes trace context (to the upstream) but ignores what
// callers send, so untrusted clients cannot choose trace ids or force
// sampling.
type injectOnly struct{ propagation.TextMapPropagator }

func (injectOnly) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}

// Install makes t the OpenTelemetry global tracer provider and propagator,
// and routes OpenTelemetry's internal errors (failed exports) to t's
// logger, at most one line per errorInterval. restore puts back what was
// installed before.
func (t *Tracing) Install() (restore func()) {
	prevTP, prevProp, prevErr := otel.GetTracerProvider(), otel.GetTextMapPropagator(), otel.GetErrorHandler()
	otel.SetTracerProvider(t.tp)
	otel.SetTextMapPropagator(t.prop)
	otel.SetErrorHandler(&errorLogger{log: t.log})
	return func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
		otel.SetErrorHandler(prevErr)
	}
}

// Shutdown flushes queued spans (bounded by ctx) and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	t.once.Do(func() {
		err := t.tp.ForceFlush(ctx)
		t.err = errors.Join(err, t.tp.Shutdown(ctx))
	})
	return t.err
}

// Close is Shutdown bounded by the configured export timeout.
func (t *Tracing) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), t.timeout)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: flush at shutdown: %w", err)
	}
	return nil
}

// errorInterval bounds how often OpenTelemetry errors are logged.
const errorInterval = time.Minute

// errorLogger logs OpenTelemetry's internal errors (e.g. an unreachable
// collector), rate-limited so that a collector outage is one line a
// minute, not one per batch.
type errorLogger struct {
	log     *slog.Logger
	last    atomic.Int64 // unix nanoseconds of the last line
	dropped atomic.Int64
}

func (h *errorLogger) Handle(err error) {
	now := time.Now().UnixNano()
	last := h.last.Load()
	if now-last < int64(errorInterval) || !h.last.CompareAndSwap(last, now) {
		h.dropped.Add(1)
		return
	}
	h.log.Warn("opentelemetry: trace export problem", "error", err.Error(), "suppressed", h.dropped.Swap(0))
}
