package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "engine")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))

	tests := []struct {
		name      string
		log       func()
		wantTrace bool
	}{
		{"context with span", func() { log.WarnContext(ctx, "with") }, true},
		{"no context", func() { log.Warn("without") }, false},
		{"context without span", func() { log.InfoContext(context.Background(), "plain") }, false},
		{"invalid span context", func() {
			log.InfoContext(trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}), "invalid")
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			tt.log()
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m["component"] != "engine" {
				t.Fatalf("WithAttrs lost: %v", m)
			}
			_, has := m[LogTraceID]
			if has != tt.wantTrace {
				t.Fatalf("trace_id present = %v, want %v: %v", has, tt.wantTrace, m)
			}
			if tt.wantTrace && (m[LogTraceID] != tid.String() || m[LogSpanID] != sid.String()) {
				t.Fatalf("ids = %v / %v", m[LogTraceID], m[LogSpanID])
			}
		})
	}
	if h := LogHandler(log.Handler()); h != log.Handler() {
		t.Fatal("LogHandler wrapped an already wrapped handler")
	}
	if !log.Handler().Enabled(ctx, slog.LevelInfo) || log.Handler().Enabled(ctx, slog.LevelDebug) {
		t.Fatal("Enabled not delegated")
	}
}
