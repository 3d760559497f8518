package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/config"
	"github.com/rampart-ai/rampart/gateway"
	"github.com/rampart-ai/rampart/layers"
)

// Policy selects the layers rampart runs in a measurement.
type Policy string

const (
	// PolicySpine turns every layer off: the engine, adapters, audit and
	// metrics only (what the spine issue budgets against the bare proxy).
	PolicySpine Policy = "spine"
	// PolicyOutput turns every layer off but the output guard (PII,
	// secrets, links on whole and streamed answers): what the output side
	// adds, time to first byte included.
	PolicyOutput Policy = "output"
	// PolicyDefault is the embedded default policy, with the per-IP request
	// limit raised so the load generator on loopback is not throttled (the
	// limiter still runs on every request).
	PolicyDefault Policy = "default"
	// PolicyNoInjection is PolicyDefault with the injection layer off:
	// everything a request pays but the prompt-injection detector, to
	// tell the detector's cost from the rest of the chain's.
	PolicyNoInjection Policy = "noinjection"
)

var keyRE = regexp.MustCompile(`rk_[A-Za-z0-9_-]{20,}`)

// Rampart starts a rampart gateway in front of upstream (an
// OpenAI-compatible base URL), keeping its state in dataDir. It returns the
// server, the headers a client must send (the bootstrap admin key, when the
// identity layer runs) and a function that closes the gateway.
func Rampart(upstream, dataDir string, policy Policy) (*Server, http.Header, func() error, error) {
	cfg, err := config.Load("")
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.DataDir = dataDir
	cfg.Upstreams = []config.Upstream{{Name: "mock", Provider: "openai", BaseURL: upstream, APIKeyEnv: "RAMPART_BENCH_UPSTREAM_KEY"}}
	if cfg.Layers == nil {
		cfg.Layers = map[string]config.Layer{}
	}
	switch policy {
	case PolicySpine, PolicyOutput:
		for _, m := range layers.Chain {
			if policy == PolicyOutput && m.Name == "outputguard" {
				continue
			}
			cfg.Layers[m.Name] = config.Layer{Mode: "off"}
		}
	case PolicyDefault, PolicyNoInjection:
		cfg.Layers["ratelimit"] = config.Layer{Options: map[string]any{
			"rules": []any{map[string]any{"name": "ip-bench", "scope": "ip", "rpm": 100000000, "max_parallel": 4096}},
		}}
		if policy == PolicyNoInjection {
			cfg.Layers["injection"] = config.Layer{Mode: "off"}
		}
	default:
		return nil, nil, nil, fmt.Errorf("unknown policy %q", policy)
	}
	getenv := func(k string) string {
		if k == "RAMPART_BENCH_UPSTREAM_KEY" {
			return "sk-bench-upstream"
		}
		return ""
	}
	var boot bytes.Buffer
	g, err := gateway.New(cfg, gateway.WithGetenv(getenv), gateway.WithLogger(slog.New(slog.DiscardHandler)),
		gateway.WithBootstrapOutput(&boot))
	if err != nil {
		return nil, nil, nil, err
	}
	srv, err := Serve(g.Handler())
	if err != nil {
		g.Close()
		return nil, nil, nil, err
	}
	hdr := http.Header{}
	if k := keyRE.FindString(boot.String()); k != "" {
		hdr.Set("Authorization", "Bearer "+k)
	}
	return srv, hdr, g.Close, nil
}

// LimitedKey creates, through the gateway's admin API, a user key with
// request and token limits high enough never to deny the load generator
// (rpm 10,000,000, tpm 10,000,000,000), so the limiter charges, estimates
// and settles tokens on every request as it does for production keys. It
// returns the headers a client sends with that key.
func LimitedKey(baseURL string, admin http.Header) (http.Header, error) {
	body := `{"name":"bench-limited","role":"user","limits":{"rpm":10000000,"tpm":10000000000}}`
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(baseURL, "/v1")+"/admin/keys", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range admin {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var out struct {
		Key string `json:"key"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &out) != nil || out.Key == "" {
		return nil, fmt.Errorf("creating the limited key: status %d: %.200s", resp.StatusCode, raw)
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+out.Key)
	return h, nil
}
