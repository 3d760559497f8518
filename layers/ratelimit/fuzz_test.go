package ratelimit

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/engine"
)

// FuzzKey checks key building on arbitrary scope values: bounded length,
// no separator or control bytes from the value, and distinct values give
// distinct keys.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "t\x00k", "gpt-4o", "/v1/chat/completions", "",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "a:b", "vabc", "h0123", "é"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ka := buildKey("p:", "rule", "rpm", a, "d20250101")
		if len(ka) > 128 {
			t.Fatalf("key of %d bytes", len(ka))
		}
		ev := encodeValue(a)
		for i := 0; i < len(ev); i++ {
			if !safeByte(ev[i]) {
				t.Fatalf("unsafe byte %q in %q", ev[i], ev)
			}
		}
		if a != b && ka == buildKey("p:", "rule", "rpm", b, "d20250101") {
			t.Fatalf("collision: %q and %q", a, b)
		}
		_ = ipValue(a, 64)
		_ = ipValue(a, 1)
	})
}

// FuzzConfig decodes arbitrary YAML as the layer's section: errors are
// fine, panics are not, and whatever validates must provision and serve.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("rules: [{scope: ip, rpm: 10}]"))
	f.Add([]byte("backend: memory\nrules:\n  - {scope: key, tpm: 100, max_parallel: 2, budget_day: 5}\n"))
	f.Add([]byte("rules: [{scope: model, models: ['gpt-*'], max_tokens: 5, max_tokens_action: flag}]"))
	f.Add([]byte("ipv6_prefix: 0\nmax_entries: -1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lay, err := Module.New(func(into any) error {
			dec := yaml.NewDecoder(strings.NewReader(string(data)))
			dec.KnownFields(true)
			return dec.Decode(into)
		})
		if err != nil {
			return
		}
		l := lay.(*Layer)
		if l.cfg.Backend != BackendMemory {
			return // no network in fuzzing
		}
		if err := l.Provision(&engine.Host{}); err != nil {
			return
		}
		defer l.Close()
		tx := req{key: "k", tenant: "t", maxTokens: 3}.tx()
		if _, err := l.OnRequest(tx); err != nil {
			t.Fatalf("valid config failed a request: %v", err)
		}
		l.OnFinish(tx)
	})
}
