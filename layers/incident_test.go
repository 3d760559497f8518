package layers

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/config"
)

// The incident section: top-level, or the deprecated
// layers.blocklist.incident (warned about), never both; errors at their
// lines; not with the blocklist layer off.
func TestIncidentSection(t *testing.T) {
	for _, tc := range []struct {
		name       string
		yaml       string
		enabled    bool
		halfLife   time.Duration
		deprecated bool
		errs       []string // substrings of Check's error, in order of lines
		warn       string
	}{
		{name: "none", yaml: "data_dir: x\n", halfLife: 10 * time.Minute},
		{name: "top level", yaml: "incident:\n  enabled: true\n  half_life: 1m\n", enabled: true, halfLife: time.Minute},
		{name: "empty top level", yaml: "incident: {}\n", halfLife: 10 * time.Minute},
		{name: "deprecated place", yaml: "layers:\n  blocklist:\n    incident:\n      enabled: true\n      half_life: 2m\n",
			enabled: true, halfLife: 2 * time.Minute, deprecated: true,
			warn: "config:3: layers.blocklist.incident: deprecated: move it to a top-level incident section"},
		{name: "both", yaml: "layers:\n  blocklist:\n    incident:\n      enabled: true\nincident:\n  enabled: false\n",
			errs: []string{"config:5: incident: set here and in layers.blocklist.incident (deprecated)"}},
		{name: "bad values at their lines", yaml: "incident:\n  enabled: true\n  backend: mongo\n  thresholds:\n    - scope: key\n      score: 3\n      action: explode\n",
			errs: []string{`config:3: incident: backend "mongo": want memory or redis`, `config:7: incident.thresholds[0]: action "explode"`}},
		{name: "unknown key", yaml: "incident:\n  enabld: true\n", errs: []string{`config:2: incident: unknown key "enabld"`}},
		{name: "blocklist off", yaml: "layers:\n  blocklist:\n    mode: \"off\"\nincident:\n  enabled: true\n",
			errs: []string{"config:4: incident: enabled with the blocklist layer off"}},
		{name: "blocklist off, deprecated place", yaml: "layers:\n  blocklist:\n    mode: \"off\"\n    incident:\n      enabled: true\n",
			errs: []string{"layers.blocklist.incident: enabled with the blocklist layer off"}},
		{name: "blocklist off, incident off", yaml: "layers:\n  blocklist:\n    mode: \"off\"\nincident:\n  enabled: false\n",
			halfLife: 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			err = Check(cfg)
			if len(tc.errs) > 0 {
				if err == nil {
					t.Fatal("Check accepted it")
				}
				msg := err.Error()
				last := -1
				for _, want := range tc.errs {
					i := strings.Index(msg, want)
					if i < 0 || i < last {
						t.Fatalf("Check error lacks (or misorders) %q:\n%s", want, msg)
					}
					last = i
				}
				if n := strings.Count(msg, "\n") + 1; n != len(tc.errs) {
					t.Fatalf("want %d problems, got %d:\n%s", len(tc.errs), n, msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, deprecated, err := IncidentConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if c.Enabled != tc.enabled || c.HalfLife != tc.halfLife || deprecated != tc.deprecated || len(c.Thresholds) == 0 {
				t.Fatalf("got enabled=%v half_life=%s deprecated=%v thresholds=%d", c.Enabled, c.HalfLife, deprecated, len(c.Thresholds))
			}
			w := strings.Join(Warnings(cfg), "\n")
			if tc.warn == "" && w != "" || !strings.Contains(w, tc.warn) {
				t.Fatalf("warnings %q, want %q", w, tc.warn)
			}
		})
	}
}

// The example file of the README: every key decodes and validates.
func TestIncidentExample(t *testing.T) {
	cfg, err := config.Load("../incident/testdata/incident.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	if w := Warnings(cfg); len(w) != 0 {
		t.Fatalf("warnings: %v", w)
	}
	in, deprecated, err := IncidentConfig(cfg)
	if err != nil || deprecated {
		t.Fatal(err, deprecated)
	}
	if !in.Enabled || len(in.Thresholds) != 4 || in.Thresholds[2].RPM != 30 || in.Thresholds[1].Cooldown != time.Hour ||
		in.Severities["leak"] != 8 || in.Severities["limit_hit"] != 0.5 || len(in.Webhooks) != 1 ||
		in.Webhooks[0].QueueSize != 1000 ||
		in.Backend != "redis" || in.RedisURLEnv != "RAMPART_REDIS_URL" || in.RedisPrefix != "rampart:incident:" ||
		in.RedisTimeout != 250*time.Millisecond {
		t.Fatalf("%+v", in)
	}
}

// FuzzIncidentSection: no input panics, and whatever Check accepts gives
// an incident configuration that validates (what the gateway starts
// with). Seeds: the table test's files and the example.
func FuzzIncidentSection(f *testing.F) {
	for _, s := range []string{
		"incident:\n  enabled: true\n  half_life: 1m\n",
		"incident: {}\n",
		"layers:\n  blocklist:\n    incident:\n      enabled: true\n",
		"layers:\n  blocklist:\n    incident:\n      enabled: true\nincident:\n  enabled: false\n",
		"incident:\n  enabled: true\n  backend: mongo\n  thresholds:\n    - scope: key\n      score: 3\n      action: explode\n",
		"layers:\n  blocklist:\n    mode: \"off\"\nincident:\n  enabled: true\n",
		"incident:\n  webhooks:\n    - url: https://h.example/x\n      secret_env: S\n  severities: {leak: 0}\n",
	} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../incident/testdata/incident.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data)
		if err != nil {
			return
		}
		if Check(cfg) != nil {
			return
		}
		c, _, err := IncidentConfig(cfg)
		if err != nil {
			t.Fatalf("Check accepted what IncidentConfig refuses: %v", err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Check accepted an invalid incident configuration: %v", err)
		}
		_ = Warnings(cfg)
	})
}
