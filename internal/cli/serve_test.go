package cli

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// A busy port stops serve before it creates the data directory or the
// store, so no bootstrap admin key is printed (and lost) for a gateway that
// never ran.
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	code := Main([]string{"serve", "--listen", ln.Addr().String(), "--data", data}, strings.NewReader(""), &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "cannot listen") || !strings.Contains(errb.String(), "address already in use") {
		t.Errorf("stderr does not name the busy port:\n%s", errb.String())
	}
	if strings.Contains(errb.String(), "rk_") || strings.Contains(errb.String(), "admin key") {
		t.Errorf("a bootstrap key was printed for a gateway that never ran:\n%s", errb.String())
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory %s created (stat: %v)", data, err)
	}
}
