package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart-ai/rampart/config"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, config.DefaultYAML, 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("server:\n  listen: nope\nupstreams:\n  - provider: openai\n    base_url: ftp://x\nlayers:\n  no_such_layer:\n    mode: off\n"), 0o600)
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("server:\n  lisen: :80\n"), 0o600)

	if code, out, errs := runCLI(t, "config", "validate", good); code != 0 || out != "ok\n" {
		t.Fatalf("good: %d %q %q", code, out, errs)
	}
	code, out, errs := runCLI(t, "config", "validate", bad)
	if code != 1 || out != "" {
		t.Fatalf("bad: %d %q", code, out)
	}
	for _, want := range []string{bad + `:2: server.listen: "nope"`, bad + `:5: upstreams[0].base_url: "ftp://x" is not an http(s) URL`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}
	if code, _, errs := runCLI(t, "config", "validate", typo); code != 1 || !strings.Contains(errs, typo+`:2: unknown key "lisen" in server`) {
		t.Errorf("typo: %d %q", code, errs)
	}
	// Unknown layer names are caught once the file itself is valid.
	layer := filepath.Join(dir, "layer.yaml")
	os.WriteFile(layer, []byte("layers:\n  no_such_layer:\n    mode: off\n"), 0o600)
	if code, _, errs := runCLI(t, "config", "validate", layer); code != 1 || !strings.Contains(errs, layer+`:2: layers.no_such_layer: unknown layer "no_such_layer"`) {
		t.Errorf("unknown layer: %d %q", code, errs)
	}
	// What serve refuses, validate refuses: each layer's pure check runs,
	// every problem at once, at the line of the offending key, without
	// stuttering prefixes; config print refuses it too.
	semantic := filepath.Join(dir, "semantic.yaml")
	os.WriteFile(semantic, []byte("layers:\n  injection:\n    user_threshold: 5\n  ratelimit:\n    backend: mongo\n"+
		"  blocklist:\n    incident:\n      backend: mongo\n      thresholds:\n        - name: x\n          scope: key\n          score: 3\n          action: explode\n"+
		"  guardmodel:\n    mode: off\n    api: nonsense\n"), 0o600)
	code, _, errs = runCLI(t, "config", "validate", semantic)
	if code != 1 {
		t.Fatalf("semantic: exit %d %q", code, errs)
	}
	for _, want := range []string{
		semantic + `:3: layers.injection: user_threshold 5 outside [0, 1]`,
		semantic + `:5: layers.ratelimit: backend "mongo": want memory or redis`,
		semantic + `:8: layers.blocklist.incident: backend "mongo": want memory or redis`,
		semantic + `:13: layers.blocklist.incident.thresholds[0]: action "explode"`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Count(errs, "\n") != 4 || strings.Contains(errs, "injection: injection") || strings.Contains(errs, "config: layers") || strings.Contains(errs, "guardmodel") {
		t.Errorf("want exactly the four problems, no stutter, no check of a layer that is off:\n%s", errs)
	}
	if code, out, _ := runCLI(t, "config", "print", semantic); code != 1 || out != "" {
		t.Errorf("config print printed a configuration validate refuses: %d %q", code, out)
	}
	// The deprecated place of the incident section: accepted with a
	// warning; with the top-level section as well: refused.
	dep := filepath.Join(dir, "deprecated.yaml")
	os.WriteFile(dep, []byte("layers:\n  blocklist:\n    incident:\n      enabled: true\n"), 0o600)
	if code, out, errs := runCLI(t, "config", "validate", dep); code != 0 || out != "ok\n" ||
		!strings.Contains(errs, "warning: "+dep+":3: layers.blocklist.incident: deprecated") {
		t.Errorf("deprecated incident place: %d %q %q", code, out, errs)
	}
	os.WriteFile(dep, []byte("layers:\n  blocklist:\n    incident:\n      enabled: true\nincident:\n  enabled: true\n"), 0o600)
	if code, _, errs := runCLI(t, "config", "validate", dep); code != 1 ||
		!strings.Contains(errs, dep+":5: incident: set here and in layers.blocklist.incident") {
		t.Errorf("both incident places: %d %q", code, errs)
	}
	t.Setenv("RAMPART_LAYERS_PII_MODE", "monitor")
	if code, _, errs := runCLI(t, "config", "validate", good); code != 1 || !strings.Contains(errs, `RAMPART_LAYERS_PII_MODE (layers.pii): unknown layer "pii"`) {
		t.Errorf("env override naming no layer: %d %q", code, errs)
	}
	os.Unsetenv("RAMPART_LAYERS_PII_MODE")
	if code, _, _ := runCLI(t, "config", "validate"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
	if code, _, _ := runCLI(t, "config", "validate", filepath.Join(dir, "missing.yaml")); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
	// --no-env checks the file alone.
	t.Setenv("RAMPART_LISTEN", "broken")
	if code, _, _ := runCLI(t, "config", "validate", good); code != 1 {
		t.Error("environment override not applied")
	}
	if code, out, _ := runCLI(t, "config", "validate", "--no-env", good); code != 0 || out != "ok\n" {
		t.Error("--no-env did not ignore the environment")
	}
}

func TestConfigPrint(t *testing.T) {
	t.Setenv("RAMPART_UPSTREAM_URL", "https://llm.example/v1")
	code, out, errs := runCLI(t, "config", "print")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	for _, want := range []string{"listen: 127.0.0.1:8080", "base_url: https://llm.example/v1", "api_key_env: OPENAI_API_KEY", "flush_interval: 1s"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The printed configuration is itself a valid file.
	p := filepath.Join(t.TempDir(), "printed.yaml")
	os.WriteFile(p, []byte(out), 0o600)
	if code, _, errs := runCLI(t, "config", "validate", "--no-env", p); code != 0 {
		t.Fatalf("printed config does not validate: %s", errs)
	}
	if code, _, _ := runCLI(t, "config", "print", "a", "b"); code != 2 {
		t.Errorf("two files: exit %d", code)
	}
}

// TestConfigValidateAzure: config validate refuses an Azure OpenAI
// deployment URL without ?api-version= and an Azure key sent as Bearer.
func TestConfigValidateAzure(t *testing.T) {
	p := filepath.Join(t.TempDir(), "azure.yaml")
	os.WriteFile(p, []byte("upstreams:\n  - name: az\n    provider: openai\n    base_url: https://contoso.openai.azure.com/openai/deployments/gpt-4o\n"), 0o600)
	code, _, errs := runCLI(t, "config", "validate", p)
	if code != 1 || !strings.Contains(errs, "needs ?api-version=") || !strings.Contains(errs, "set auth: api-key") {
		t.Fatalf("%d %q", code, errs)
	}
	os.WriteFile(p, []byte("upstreams:\n  - name: az\n    provider: openai\n    auth: api-key\n    base_url: https://contoso.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21\n"), 0o600)
	if code, out, errs := runCLI(t, "config", "validate", p); code != 0 || out != "ok\n" {
		t.Fatalf("valid Azure config: %d %q %q", code, out, errs)
	}
}
