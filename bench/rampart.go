package bench

import (
	"log/slog"
	"net/http"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/gateway"
)

// Rampart starts a rampart gateway with the embedded default policy in
// front of upstream (an OpenAI-compatible base URL), keeping its state in
// dataDir. It returns the server and the headers a client must send.
func Rampart(upstream, dataDir string) (*Server, http.Header, func() error, error) {
	cfg, err := config.Load("")
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.DataDir = dataDir
	cfg.Upstreams = []config.Upstream{{Name: "mock", Provider: "openai", BaseURL: upstream, APIKeyEnv: "RAMPART_BENCH_UPSTREAM_KEY"}}
	getenv := func(k string) string {
		if k == "RAMPART_BENCH_UPSTREAM_KEY" {
			return "sk-bench-upstream"
		}
		return ""
	}
	g, err := gateway.New(cfg, gateway.WithGetenv(getenv), gateway.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, nil, nil, err
	}
	srv, err := Serve(g.Handler())
	if err != nil {
		g.Close()
		return nil, nil, nil, err
	}
	return srv, http.Header{}, g.Close, nil
}
