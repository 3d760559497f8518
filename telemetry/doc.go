// Package telemetry sets up OpenTelemetry tracing for rampart from the
// telemetry section of the configuration: an OTLP exporter (HTTP or gRPC)
// behind a batching span processor, a parent-based ratio sampler, the
// service.name/service.version resource and W3C Trace Context propagation.
// Tracing is off by default; New then returns nil and nothing is created.
//
// The engine makes the spans (a span per transaction, per layer phase call
// and per upstream call; see engine.Options.TracerProvider). This package
// also provides LogHandler, an slog.Handler wrapper that adds trace_id and
// span_id to log records whose context carries a span, so that a log line,
// an audit record (store.AuditRecord.TraceID) and a trace share one id.
package telemetry
