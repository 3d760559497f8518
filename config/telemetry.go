package config

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// Telemetry configures OpenTelemetry tracing. It is off by default: no
// exporter is created and the engine makes no spans.
type Telemetry struct {
	// Enabled turns tracing on: a span per transaction, per layer phase
	// call and per upstream call, exported over OTLP. Default false.
	Enabled bool `yaml:"enabled"`
	// Protocol is the OTLP transport: "http/protobuf" (default; collector
	// port 4318) or "grpc" (port 4317).
	Protocol string `yaml:"protocol"`
	// Endpoint is the collector's host:port, e.g. "otel-collector:4318".
	// Empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT
	// if set, else localhost:4318 (http/protobuf) or localhost:4317 (grpc).
	Endpoint string `yaml:"endpoint"`
	// URLPath is the HTTP path traces are posted to (http/protobuf only).
	// Default "/v1/traces".
	URLPath string `yaml:"url_path"`
	// Insecure sends traces without TLS (plain HTTP or gRPC). Default false:
	// TLS, verified against the system roots.
	Insecure bool `yaml:"insecure"`
	// HeadersEnv names an environment variable holding headers sent with
	// every export, as "key1=value1,key2=value2" (values URL-encoded; the
	// format of OTEL_EXPORTER_OTLP_HEADERS), e.g. a collector's API key.
	// Keep credentials out of this file. Empty: none (the exporter still
	// reads OTEL_EXPORTER_OTLP_HEADERS).
	HeadersEnv string `yaml:"headers_env"`
	// SampleRatio is the share of new traces recorded, 0 to 1. A request
	// whose traceparent says its caller sampled it is always recorded
	// (parent-based sampling), one whose caller did not sample it never.
	// Default 1.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ContinueClientTraces makes a request that carries a W3C traceparent
	// header part of the caller's trace (and subject to the caller's
	// sampling decision). Set it to false when clients are not trusted to
	// choose trace ids or to force sampling: every request then starts a
	// new trace (rampart's own trace context still goes upstream).
	// Default true.
	ContinueClientTraces *bool `yaml:"continue_client_traces"`
	// ServiceName is the service.name resource attribute. Default "rampart".
	ServiceName string `yaml:"service_name"`
	// ExportTimeout bounds one export call, and the flush at shutdown.
	// Default 10s.
	ExportTimeout time.Duration `yaml:"export_timeout"`
}

// Telemetry defaults, as documented on the fields above.
const (
	TelemetryHTTP                 = "http/protobuf"
	TelemetryGRPC                 = "grpc"
	DefaultTelemetryProtocol      = TelemetryHTTP
	DefaultTelemetryURLPath       = "/v1/traces"
	DefaultTelemetrySampleRatio   = 1.0
	DefaultTelemetryServiceName   = "rampart"
	DefaultTelemetryExportTimeout = 10 * time.Second
)

// TelemetryProtocols are the accepted telemetry.protocol values.
var TelemetryProtocols = []string{TelemetryHTTP, TelemetryGRPC}

// ContinuesClientTraces reports whether client trace contexts are
// continued (ContinueClientTraces, default true).
func (t Telemetry) ContinuesClientTraces() bool {
	return t.ContinueClientTraces == nil || *t.ContinueClientTraces
}

// Ratio is the effective sample ratio (SampleRatio, or the default).
func (t Telemetry) Ratio() float64 {
	if t.SampleRatio == nil {
		return DefaultTelemetrySampleRatio
	}
	return *t.SampleRatio
}

func (t *Telemetry) applyDefaults() {
	setStr(&t.Protocol, DefaultTelemetryProtocol)
	setStr(&t.URLPath, DefaultTelemetryURLPath)
	setStr(&t.ServiceName, DefaultTelemetryServiceName)
	setNum(&t.ExportTimeout, DefaultTelemetryExportTimeout)
	if t.SampleRatio == nil {
		r := DefaultTelemetrySampleRatio
		t.SampleRatio = &r
	}
	if t.ContinueClientTraces == nil {
		c := true
		t.ContinueClientTraces = &c
	}
}

func (t Telemetry) validate(v *checker) {
	p := []any{"telemetry"}
	oneOf(v, at(p, "protocol"), t.Protocol, TelemetryProtocols, false)
	if t.Endpoint != "" {
		if host, port, err := net.SplitHostPort(t.Endpoint); err != nil || host == "" {
			v.add(at(p, "endpoint"), "%q is not host:port, e.g. \"otel-collector:4318\" (no scheme, no path)", t.Endpoint)
		} else if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			v.add(at(p, "endpoint"), "%q has an invalid port %q", t.Endpoint, port)
		}
	}
	if !strings.HasPrefix(t.URLPath, "/") {
		v.add(at(p, "url_path"), "%q must start with /", t.URLPath)
	}
	if t.HeadersEnv != "" && !envNameRE.MatchString(t.HeadersEnv) {
		v.add(at(p, "headers_env"), "%q is not an environment variable name", t.HeadersEnv)
	}
	if r := t.Ratio(); !(r >= 0 && r <= 1) {
		v.add(at(p, "sample_ratio"), "%v must be between 0 and 1", r)
	}
	if strings.TrimSpace(t.ServiceName) == "" {
		v.add(at(p, "service_name"), "must not be empty")
	}
	duration(v, at(p, "export_timeout"), t.ExportTimeout)
}
