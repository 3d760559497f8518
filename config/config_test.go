package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rampart.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEmbeddedDefaultMatchesDefault(t *testing.T) {
	got, err := LoadEnv("", nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := yaml.Marshal(got)
	w, _ := yaml.Marshal(Default())
	if string(g) != string(w) {
		t.Fatalf("default.yaml and Default() disagree:\n got %s\nwant %s", g, w)
	}
	d := Default()
	if d.Server.Listen != "127.0.0.1:8080" || d.DataDir != "./rampart-data" || d.Server.MaxBodyBytes != 10<<20 ||
		!d.Audit.IsEnabled() || d.Audit.BatchSize != 256 || d.Log.Format != "json" {
		t.Fatalf("unexpected defaults %+v", d)
	}
}

func TestPrintedConfigReloads(t *testing.T) {
	c, err := Parse([]byte(`
upstreams:
  - provider: anthropic
    base_url: https://api.anthropic.com/v1
    models: ["claude-*"]
layers:
  pii:
    mode: monitor
    entities: [EMAIL_ADDRESS]
    threshold: 0.5
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("printed config does not reload: %v\n%s", err, out)
	}
	again, err := yaml.Marshal(back)
	if err != nil || string(again) != string(out) {
		t.Fatalf("round trip changed config:\n%s\n---\n%s", out, again)
	}
	if back.Upstreams[0].Models[0] != "claude-*" || back.Layer("pii").Options["threshold"] != 0.5 {
		t.Fatalf("reloaded config lost values: %+v", back)
	}
}

func TestLoadValid(t *testing.T) {
	c, err := Parse([]byte(`
server:
  listen: ":9000"
  read_timeout: 5s
data_dir: /var/lib/rampart
upstreams:
  - name: local
    provider: openai
    base_url: http://127.0.0.1:11434/v1?api-version=1
  - provider: anthropic
    base_url: https://api.anthropic.com/v1
layers:
  injection:
    mode: enforce
    failure: open
    threshold: 0.9
audit:
  enabled: false
log:
  level: debug
`))
	if err != nil {
		t.Fatal(err)
	}
	u := c.Upstreams
	if u[0].APIKeyEnv != "OPENAI_API_KEY" || u[1].Name != "anthropic" || u[1].APIKeyEnv != "ANTHROPIC_API_KEY" ||
		u[0].Timeout != DefaultUpstreamTimeout || u[1].ConnectTimeout != DefaultConnectTimeout {
		t.Errorf("upstream defaults not applied: %+v", u)
	}
	if c.Server.ReadTimeout != 5*time.Second || c.Server.IdleTimeout != DefaultIdleTimeout || c.Server.Listen != ":9000" {
		t.Errorf("server: %+v", c.Server)
	}
	if c.Audit.IsEnabled() || c.Audit.QueueSize != DefaultAuditQueueSize {
		t.Errorf("audit: %+v", c.Audit)
	}
	l := c.Layer("injection")
	if l.ModeOr("monitor") != "enforce" || l.FailureOr("closed") != "open" || l.Options["threshold"] != 0.9 {
		t.Errorf("layer: %+v", l)
	}
	if m := c.Layer("absent"); m.ModeOr("monitor") != "monitor" || m.Name() != "absent" {
		t.Errorf("absent layer: %+v", m)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each must appear in the error
	}{
		{"unknown top-level key", "servr:\n  listen: x\n", []string{`config:1: unknown key "servr" in the top level`}},
		{"unknown server key", "server:\n  listen: :80\n  max_body: 5\n", []string{`config:3: unknown key "max_body" in server`}},
		{"unknown upstream key", "upstreams:\n  - name: a\n    provider: openai\n    base_url: http://x\n    apikey: k\n", []string{`config:5: unknown key "apikey" in upstreams[]`}},
		{"bad duration", "server:\n  read_timeout: 10x\n", []string{"config:2:", "time.Duration"}},
		{"int duration", "audit:\n  flush_interval: 10\n", []string{"config:2:", "time.Duration"}},
		{"wrong type", "server:\n  max_body_bytes: lots\n", []string{"config:2:", "int64"}},
		{"negative size", "server:\n  max_body_bytes: -5\n", []string{"config:2: server.max_body_bytes: -5 must be positive"}},
		{"negative duration", "server:\n  idle_timeout: -1s\n", []string{"config:2: server.idle_timeout: -1s must be a positive duration"}},
		{"ftp url", "upstreams:\n  - name: a\n    provider: openai\n    base_url: http://ok\n  - name: b\n    provider: openai\n    base_url: ftp://x\n",
			[]string{`config:7: upstreams[1].base_url: "ftp://x" is not an http(s) URL`}},
		{"url credentials", "upstreams:\n  - provider: openai\n    base_url: https://user:sekrit@x/v1\n",
			[]string{"upstreams[0].base_url:", "must not contain credentials"}},
		{"missing url", "upstreams:\n  - provider: openai\n", []string{"config:2: upstreams[0].base_url: must be set"}},
		{"duplicate names", "upstreams:\n  - name: a\n    provider: openai\n    base_url: http://x\n  - name: a\n    provider: anthropic\n    base_url: http://y\n",
			[]string{`config:5: upstreams[1].name: "a" is already the name of upstreams[0]`}},
		{"unknown provider", "upstreams:\n  - name: a\n    provider: bard\n    base_url: http://x\n", []string{`config:3: upstreams[0].provider: unknown provider "bard"`}},
		{"missing provider", "upstreams:\n  - name: a\n    base_url: http://x\n", []string{"upstreams[0].provider: must be set"}},
		{"bad glob", "upstreams:\n  - provider: openai\n    base_url: http://x\n    models: [\"gpt-[\"]\n", []string{`upstreams[0].models[0]: "gpt-[" is not a valid glob`}},
		{"bad route", "upstreams:\n  - provider: openai\n    base_url: http://x\n    routes: [v1/chat]\n", []string{`upstreams[0].routes[0]: "v1/chat" must start with /`}},
		{"bad key env", "upstreams:\n  - provider: openai\n    base_url: http://x\n    api_key_env: \"sk-123\"\n", []string{`config:4: upstreams[0].api_key_env: "sk-123" is not an environment variable name`}},
		{"azure without api-key auth", "upstreams:\n  - provider: openai\n    base_url: https://r.openai.azure.com/openai/deployments/d?api-version=2024-10-21\n",
			[]string{"upstreams[0].auth: Azure OpenAI takes its key in the api-key header"}},
		{"azure deployment without api-version", "upstreams:\n  - provider: openai\n    auth: api-key\n    base_url: https://r.openai.azure.com/openai/deployments/d\n",
			[]string{"upstreams[0].base_url: an Azure OpenAI deployment URL needs ?api-version="}},
		{"bad auth", "upstreams:\n  - provider: openai\n    base_url: http://x\n    auth: basic\n", []string{`upstreams[0].auth: "basic" is not one of`}},
		{"entra without section", "upstreams:\n  - provider: openai\n    base_url: http://x\n    auth: entra\n", []string{"upstreams[0].entra: auth: entra needs an entra section"}},
		{"entra bad ids", "upstreams:\n  - provider: openai\n    base_url: http://x\n    auth: entra\n    entra: {tenant_id: \"a b\", client_id: nope, client_secret_env: \"x-y\"}\n",
			[]string{"upstreams[0].entra.tenant_id", "upstreams[0].entra.client_id", "upstreams[0].entra.client_secret_env"}},
		{"entra without auth", "upstreams:\n  - provider: openai\n    base_url: http://x\n    entra: {tenant_id: t.example.com}\n", []string{"upstreams[0].entra: is only used with auth: entra"}},
		{"api-key on anthropic", "upstreams:\n  - provider: anthropic\n    base_url: http://x\n    auth: api-key\n", []string{"upstreams[0].auth: api-key is for Azure OpenAI"}},
		{"bad mode", "layers:\n  pii:\n    mode: enforcing\n", []string{`config:3: layers.pii.mode: "enforcing" is not one of enforce, monitor, off`}},
		{"bad failure", "layers:\n  pii:\n    failure: maybe\n", []string{`config:3: layers.pii.failure: "maybe" is not one of closed, open`}},
		{"bad layer name", "layers:\n  Pii:\n    mode: off\n", []string{`layers.Pii: layer name "Pii"`}},
		{"bad listen", "server:\n  listen: localhost\n", []string{`config:2: server.listen: "localhost" is not host:port`}},
		{"bad port", "server:\n  listen: \"127.0.0.1:99999\"\n", []string{`server.listen: "127.0.0.1:99999" has an invalid port`}},
		{"bad log", "log:\n  level: loud\n  format: xml\n", []string{`config:2: log.level: "loud"`, `config:3: log.format: "xml"`}},
		{"bad audit", "audit:\n  batch_size: -1\n  queue_size: -2\n", []string{"audit.batch_size: -1", "audit.queue_size: -2"}},
		{"two documents", "log:\n  level: info\n---\nlog:\n  level: debug\n", []string{"more than one YAML document"}},
		{"not a mapping", "- a\n- b\n", []string{"config:1:", "cannot unmarshal"}},
		{"all errors reported", "server:\n  listen: nope\n  max_body_bytes: -1\nlog:\n  level: x\n",
			[]string{"server.listen", "server.max_body_bytes", "log.level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadFileNamesSource(t *testing.T) {
	p := writeFile(t, "upstreams:\n  - name: x\n    provider: openai\n    base_url: ftp://x\n")
	_, err := LoadEnv(p, nil)
	if err == nil || !strings.HasPrefix(err.Error(), p+":4: upstreams[0].base_url:") {
		t.Fatalf("err = %v", err)
	}
	if _, err := LoadEnv(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil {
		t.Fatal("missing file: no error")
	}
	big := writeFile(t, "# "+strings.Repeat("x", MaxFileBytes))
	if _, err := LoadEnv(big, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("big file err = %v", err)
	}
	empty := writeFile(t, "")
	c, err := LoadEnv(empty, nil)
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Fatalf("empty file: %v %+v", err, c)
	}
}

func TestEnvOverrides(t *testing.T) {
	file := "upstreams:\n  - name: openai\n    provider: openai\n    base_url: https://api.openai.com/v1\n    timeout: 5s\n" +
		"layers:\n  pii:\n    mode: enforce\n    threshold: 1\n"
	env := []string{
		"RAMPART_LISTEN=0.0.0.0:9999",
		"RAMPART_DATA_DIR=/tmp/rd",
		"RAMPART_LOG_LEVEL=debug",
		"RAMPART_LOG_FORMAT=text",
		"RAMPART_MAX_BODY_BYTES=1024",
		"RAMPART_UPSTREAM_URL=http://127.0.0.1:8000/v1",
		"RAMPART_AUDIT_SYNC=true",
		"RAMPART_AUDIT_ENABLED=false",
		"RAMPART_LAYERS_PII_MODE=monitor",
		"RAMPART_LAYERS_OUTPUT_GUARD_FAILURE=open",
		"UNRELATED=1",
	}
	c, err := LoadEnv(writeFile(t, file), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Listen != "0.0.0.0:9999" || c.DataDir != "/tmp/rd" || c.Log.Level != "debug" || c.Log.Format != "text" ||
		c.Server.MaxBodyBytes != 1024 || !c.Audit.Sync || c.Audit.IsEnabled() {
		t.Errorf("scalars not overridden: %+v", c)
	}
	if len(c.Upstreams) != 1 || c.Upstreams[0].BaseURL != "http://127.0.0.1:8000/v1" || c.Upstreams[0].Timeout != 5*time.Second {
		t.Errorf("RAMPART_UPSTREAM_URL should replace the openai upstream's URL: %+v", c.Upstreams)
	}
	if l := c.Layer("pii"); l.Mode != "monitor" || l.Options["threshold"] != 1 {
		t.Errorf("pii layer: %+v", l)
	}
	if l := c.Layer("output_guard"); l.Failure != "open" {
		t.Errorf("output_guard layer: %+v", l)
	}

	// Without an openai upstream, RAMPART_UPSTREAM_URL adds one.
	c, err = LoadEnv("", []string{"RAMPART_UPSTREAM_URL=https://llm.internal/v1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Upstreams) != 1 || c.Upstreams[0].Name != "openai" || c.Upstreams[0].Provider != "openai" ||
		c.Upstreams[0].APIKeyEnv != "OPENAI_API_KEY" {
		t.Errorf("added upstream: %+v", c.Upstreams)
	}

	bad := []struct {
		env  string
		want string
	}{
		{"RAMPART_MAX_BODY_BYTES=10MB", `RAMPART_MAX_BODY_BYTES: "10MB" is not a whole number`},
		{"RAMPART_AUDIT_SYNC=yes please", `RAMPART_AUDIT_SYNC: "yes please" is not true or false`},
		{"RAMPART_LAYERS_PII_MOOD=x", "RAMPART_LAYERS_PII_MOOD: unknown variable"},
		{"RAMPART_LAYERS__MODE=off", "missing layer name"},
		{"RAMPART_LAYERS_PII_MODE=loud", `layers.pii.mode: "loud" is not one of`},
		{"RAMPART_UPSTREAM_URL=ftp://x", `upstreams[0].base_url: "ftp://x" is not an http(s) URL`},
		{"RAMPART_LISTEN=nope", `server.listen: "nope"`},
	}
	for _, b := range bad {
		_, err := LoadEnv("", []string{b.env})
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: err = %v, want %q", b.env, err, b.want)
		}
	}
}

func TestLoadUsesProcessEnv(t *testing.T) {
	t.Setenv("RAMPART_LISTEN", "127.0.0.1:1234")
	c, err := Load("")
	if err != nil || c.Server.Listen != "127.0.0.1:1234" {
		t.Fatalf("Load ignored RAMPART_LISTEN: %v %+v", err, c)
	}
}

type piiOpts struct {
	Threshold float64  `yaml:"threshold"`
	Entities  []string `yaml:"entities"`
	Nested    struct {
		Depth int `yaml:"depth"`
	} `yaml:"nested"`
}

func TestLayerDecode(t *testing.T) {
	c, err := Parse([]byte("layers:\n  pii:\n    mode: monitor\n    threshold: 0.25\n    entities: [EMAIL_ADDRESS]\n    nested: {depth: 3}\n" +
		"  bad:\n    thresh: 1\n  typed:\n    threshold: high\n  deep:\n    nested: {width: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	o := piiOpts{Threshold: 0.7}
	l := c.Layer("pii")
	if err := l.Decode(&o); err != nil {
		t.Fatal(err)
	}
	if o.Threshold != 0.25 || len(o.Entities) != 1 || o.Nested.Depth != 3 {
		t.Fatalf("decoded %+v", o)
	}

	cases := []struct{ layer, want string }{
		// The line of the offending key, not of the section (7, 9, 11).
		{"bad", `config:8: layers.bad: unknown key "thresh"`},
		{"typed", "config:10: layers.typed.threshold: cannot unmarshal"},
		{"deep", `config:12: layers.deep.nested: unknown key "width"`},
	}
	for _, cs := range cases {
		l := c.Layer(cs.layer)
		err := l.Decode(&piiOpts{})
		if err == nil || !strings.HasPrefix(err.Error(), cs.want) {
			t.Errorf("%s: err = %v, want prefix %q", cs.layer, err, cs.want)
		}
	}

	// No options: defaults untouched.
	o = piiOpts{Threshold: 0.7}
	absent := c.Layer("absent")
	if err := absent.Decode(&o); err != nil || o.Threshold != 0.7 {
		t.Fatalf("absent: %v %+v", err, o)
	}
}

func TestCheckLayers(t *testing.T) {
	c, err := Parse([]byte("layers:\n  pii:\n    mode: off\n  pii_redact:\n    mode: off\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckLayers([]string{"pii", "injection"})
	if err == nil || !strings.Contains(err.Error(), `config:4: layers.pii_redact: unknown layer "pii_redact" (known: pii, injection)`) ||
		strings.Contains(err.Error(), "layers.pii ") {
		t.Fatalf("err = %v", err)
	}
	if err := c.CheckLayers([]string{"pii", "pii_redact"}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateHandBuilt(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Upstreams = append(c.Upstreams, Upstream{Name: "x", Provider: "openai", BaseURL: "ftp://x", APIKeyEnv: "K",
		Timeout: time.Second, StreamIdleTimeout: time.Second, ConnectTimeout: time.Second})
	err := c.Validate()
	if err == nil || err.Error() != `upstreams[0].base_url: "ftp://x" is not an http(s) URL` {
		t.Fatalf("err = %v", err)
	}
}

// A layer's errors (from New or its configuration check) become
// FieldErrors: all of them, without the layer's own prefixes, at the line
// of the key the message starts with.
func TestLayerErrors(t *testing.T) {
	c, err := Parse([]byte("layers:\n  blocklist:\n    refresh_interval: 1ms\n    incident:\n      backend: mongo\n" +
		"      thresholds:\n        - name: a\n          action: explode\n  ratelimit:\n    mode: monitor\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := c.Layer("blocklist")
	got := l.Errors(errors.Join(
		errors.New("blocklist: refresh_interval 1ms outside [100ms, 1h]"),
		fmt.Errorf("blocklist: incident: %w", errors.New(`backend "mongo": want memory or redis`)),
		errors.New("blocklist: incident: thresholds[0]: action \"explode\": want block or throttle"),
		errors.New("blocklist: config: purge_interval below 1s"), // not in the file: the section's line
	)).Error()
	want := "config:3: layers.blocklist: refresh_interval 1ms outside [100ms, 1h]\n" +
		"config:5: layers.blocklist.incident: backend \"mongo\": want memory or redis\n" +
		"config:8: layers.blocklist.incident.thresholds[0]: action \"explode\": want block or throttle\n" +
		"config:2: layers.blocklist: purge_interval below 1s"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	r := c.Layer("ratelimit")
	if got := r.Errors(errors.New("ratelimit: backend \"x\": want memory or redis")).Error(); got != `config:9: layers.ratelimit: backend "x": want memory or redis` {
		t.Fatalf("key not in the file: %s", got)
	}
}

// A RAMPART_LAYERS_* variable naming no layer is an error that names it.
func TestEnvUnknownLayer(t *testing.T) {
	c, err := LoadEnv("", []string{"RAMPART_LAYERS_PII_MODE=monitor"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.CheckLayers([]string{"injection", "outputguard"})
	if err == nil || !strings.Contains(err.Error(), `RAMPART_LAYERS_PII_MODE (layers.pii): unknown layer "pii"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestAzureUpstreamsValid(t *testing.T) {
	yml := `upstreams:
  - name: azure-key
    provider: openai
    auth: api-key
    api_key_env: AZURE_OPENAI_API_KEY
    base_url: https://contoso.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21
  - name: azure-entra
    provider: openai
    auth: entra
    base_url: https://contoso.openai.azure.com/openai/v1
    entra: {tenant_id: 11111111-2222-3333-4444-555555555555, client_id: 11111111-2222-3333-4444-555555555555}
`
	c, err := Parse([]byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	if c.Upstreams[1].Entra == nil || c.Upstreams[0].Auth != "api-key" {
		t.Fatalf("%+v", c.Upstreams)
	}
}
