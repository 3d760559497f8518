package cli

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/gateway"
	"github.com/rampart-ai/rampart/identity"
)

// A key created with --rpm 2 against a running gateway (remote mode) gets
// 429 on its third request; keys list shows its limits. Local mode stores
// the same limits.
func TestKeyLimitsThroughGateway(t *testing.T) {
	_, srv := startGateway(t, fmt.Sprintf("data_dir: %q\naudit: {sync: true}\nlayers: {}\n", t.TempDir()))

	if rc, _, e := runCLI(t, "tenants", "create", "acme", "--url", srv.URL, "--tpm", "200k"); rc != 0 {
		t.Fatalf("tenants create: %s", e)
	}
	rc, out, e := runCLI(t, "keys", "create", "--url", srv.URL, "--tenant", "acme", "--name", "bot",
		"--rpm", "2", "--max-parallel", "4", "--budget", "2M/day", "--budget", "50000000/month")
	key := keyIn(out)
	if rc != 0 || key == "" {
		t.Fatalf("keys create: %d %s %s", rc, out, e)
	}
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hello"}]}`, gateway.DemoModel)
	for i, want := range []int{200, 200, 429} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, b.String())
		}
		if want == 429 && (!strings.Contains(b.String(), "rate_limit_exceeded") || resp.Header.Get("Retry-After") == "") {
			t.Fatalf("429 without code or Retry-After: %v %s", resp.Header, b.String())
		}
		if want == 200 && resp.Header.Get("x-ratelimit-limit-requests") != "2" {
			t.Fatalf("request %d: x-ratelimit-limit-requests %q", i+1, resp.Header.Get("x-ratelimit-limit-requests"))
		}
	}
	_, list, _ := runCLI(t, "keys", "list", "--url", srv.URL, "--tenant", "acme")
	if !strings.Contains(list, "budget_day=2000000,budget_month=50000000,max_parallel=4,rpm=2") {
		t.Fatalf("keys list: %s", list)
	}
	_, tl, _ := runCLI(t, "tenants", "list", "--url", srv.URL)
	if !strings.Contains(tl, "tpm=200000") {
		t.Fatalf("tenants list: %s", tl)
	}

	// Local mode.
	t.Setenv(identity.PepperEnv, "")
	dir := t.TempDir()
	if rc, _, e := runCLI(t, "tenants", "create", "beta", "--data", dir, "--rpm", "-1"); rc != 0 {
		t.Fatalf("local tenants create: %s", e)
	}
	if rc, out, e := runCLI(t, "keys", "create", "--tenant", "beta", "--name", "b", "--data", dir, "--tpm", "1M", "--max-tokens", "512"); rc != 0 || keyIn(out) == "" {
		t.Fatalf("local keys create: %s %s", out, e)
	}
	if _, list, _ := runCLI(t, "keys", "list", "--data", dir); !strings.Contains(list, "max_tokens=512,tpm=1000000") {
		t.Fatalf("local keys list: %s", list)
	}
	if _, tl, _ := runCLI(t, "tenants", "list", "--data", dir); !strings.Contains(tl, "rpm=-1") {
		t.Fatalf("local tenants list: %s", tl)
	}
}

func TestLimitFlagsBad(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--rpm", "0"}, {"--rpm", "x"}, {"--tpm", "-5"}, {"--budget", "100"}, {"--budget", "100/week"},
		{"--budget", "k/day"}, {"--tpm", "2000000M"},
	} {
		a := append([]string{"keys", "create", "--tenant", "t", "--name", "n", "--data", dir}, args...)
		if rc, _, _ := runCLI(t, a...); rc != 2 {
			t.Errorf("%v: exit %d, want 2 (usage error)", args, rc)
		}
	}
}

// startGateway serves a gateway built from yaml on a loopback server and
// puts its bootstrap admin key in $RAMPART_ADMIN_KEY for --url commands.
func startGateway(t *testing.T, yaml string) (*gateway.Gateway, *httptest.Server) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var boot bytes.Buffer
	g, err := gateway.New(cfg, gateway.WithLogger(slog.New(slog.DiscardHandler)), gateway.WithBootstrapOutput(&boot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	t.Setenv(adminKeyEnv, keyIn(boot.String()))
	return g, srv
}
