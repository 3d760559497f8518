package config

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader: it must return a config or
// an error, never panic, and a config it returns must validate.
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML)
	for _, s := range []string{
		"", "server:\n  listen: :80\n", "upstreams:\n  - provider: openai\n    base_url: http://x\n",
		"layers:\n  pii:\n    mode: monitor\n    x: [1, {a: b}]\n", "a: &a [*a]\n", "- 1\n- 2\n",
		"log: {level: debug}\n---\nlog: {}\n", "audit:\n  flush_interval: 10\n", "server: !!binary aGk=\n",
		"layers:\n  ? [a]\n  : 1\n", "upstreams: [{name: a, provider: openai, base_url: 'http://[::1'}]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if verr := c.Validate(); verr != nil {
			t.Fatalf("Parse returned a config that does not validate: %v", verr)
		}
		for name := range c.Layers {
			l := c.Layer(name)
			var into struct {
				A string `yaml:"a"`
			}
			if err := l.Decode(&into); err != nil && !strings.Contains(err.Error(), "layers."+name) {
				t.Fatalf("Decode error without the layer's name: %v", err)
			}
		}
	})
}
