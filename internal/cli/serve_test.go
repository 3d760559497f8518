package cli

import (
	"testing"
)

// serve's configuration: embedded defaults, then RAMPART_* overrides, then
// flags (which win); bad flags are refused with a clear error.
func TestServeConfig(t *testing.T) {
	t.Setenv("RAMPART_LISTEN", "127.0.0.1:9999")
	t.Setenv("RAMPART_DATA_DIR", "/tmp/from-env")
	cfg, err := serveConfig("", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:9999" || cfg.DataDir != "/tmp/from-env" || len(cfg.Upstreams) != 0 {
		t.Fatalf("env overrides not applied: %+v %q %v", cfg.Server.Listen, cfg.DataDir, cfg.Upstreams)
	}
	cfg, err = serveConfig("", "127.0.0.1:7777", "https://api.openai.com/v1", "/tmp/from-flag")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:7777" || cfg.DataDir != "/tmp/from-flag" || len(cfg.Upstreams) != 1 ||
		cfg.Upstreams[0].BaseURL != "https://api.openai.com/v1" || cfg.Upstreams[0].APIKeyEnv != "OPENAI_API_KEY" {
		t.Fatalf("flags not applied: %+v", cfg)
	}
	for _, bad := range []string{"ftp://x", "not a url", "http://"} {
		if _, err := serveConfig("", "", bad, ""); err == nil {
			t.Errorf("--upstream %q accepted", bad)
		}
	}
	if _, err := serveConfig("/nonexistent/rampart.yaml", "", "", ""); err == nil {
		t.Error("missing config file accepted")
	}
}
