package config

import (
	"strings"
	"testing"
	"time"
)

func TestTelemetryDefaultsOff(t *testing.T) {
	c := Default()
	tl := c.Telemetry
	if tl.Enabled || tl.Protocol != TelemetryHTTP || tl.URLPath != "/v1/traces" || tl.Ratio() != 1 ||
		tl.ServiceName != "rampart" || tl.ExportTimeout != 10*time.Second || !tl.ContinuesClientTraces() {
		t.Fatalf("defaults = %+v", tl)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestTelemetryParse(t *testing.T) {
	c, err := Parse([]byte(`
telemetry:
  enabled: true
  protocol: grpc
  endpoint: otel-collector:4317
  insecure: true
  headers_env: OTLP_HEADERS
  sample_ratio: 0
  continue_client_traces: false
  service_name: rampart-eu
  export_timeout: 3s
`))
	if err != nil {
		t.Fatal(err)
	}
	tl := c.Telemetry
	if !tl.Enabled || tl.Protocol != "grpc" || tl.Endpoint != "otel-collector:4317" || !tl.Insecure ||
		tl.HeadersEnv != "OTLP_HEADERS" || tl.Ratio() != 0 || tl.ServiceName != "rampart-eu" || tl.ExportTimeout != 3*time.Second ||
		tl.ContinuesClientTraces() {
		t.Fatalf("parsed = %+v", tl)
	}
}

func TestTelemetryErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"protocol", "protocol: http/json", "telemetry.protocol"},
		{"endpoint scheme", "endpoint: http://collector:4318", "telemetry.endpoint"},
		{"endpoint port", "endpoint: collector:0", "telemetry.endpoint"},
		{"endpoint no host", "endpoint: :4318", "telemetry.endpoint"},
		{"url path", "url_path: v1/traces", "telemetry.url_path"},
		{"headers env", "headers_env: 'A B'", "telemetry.headers_env"},
		{"ratio high", "sample_ratio: 1.5", "telemetry.sample_ratio"},
		{"ratio negative", "sample_ratio: -0.1", "telemetry.sample_ratio"},
		{"ratio nan", "sample_ratio: .nan", "telemetry.sample_ratio"},
		{"service name", "service_name: ' '", "telemetry.service_name"},
		{"timeout", "export_timeout: -1s", "telemetry.export_timeout"},
		{"unknown key", "endpoint_url: x", "endpoint_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("telemetry:\n  " + tt.yaml + "\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
