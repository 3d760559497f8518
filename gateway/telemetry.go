package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/telemetry"
)

// openTelemetry wires observability that the config asks for. Log records
// always get trace_id/span_id when their context carries a span. With
// telemetry.enabled it builds the OTLP tracer provider and installs it as
// the OpenTelemetry global, which the engine picks up when it is built
// (engine.Options.TracerProvider nil); the gateway's Close uninstalls it
// and flushes queued spans. It must run before anything else is added to
// g.closers, so that the flush comes last, after the layers and the audit
// log have finished.
func (g *Gateway) openTelemetry(cfg *config.Config, host *engine.Host) error {
	g.log = slog.New(telemetry.LogHandler(g.log.Handler()))
	host.Logger = g.log
	tr, err := telemetry.New(context.Background(), cfg.Telemetry, telemetry.Options{
		Version: buildVersion(), Logger: g.log,
	})
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	if tr == nil {
		return nil
	}
	restore := tr.Install()
	g.closers = append(g.closers, closerFunc(func() error {
		restore()
		return tr.Close()
	}))
	g.log.Info("tracing on", "protocol", cfg.Telemetry.Protocol, "endpoint", cfg.Telemetry.Endpoint,
		"sample_ratio", cfg.Telemetry.Ratio(), "service_name", cfg.Telemetry.ServiceName)
	return nil
}

// buildVersion is the main module's version from the build information
// (e.g. v1.2.3 for `go install ...@v1.2.3`), or "" for a development build.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "(devel)" {
		return ""
	}
	return bi.Main.Version
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
