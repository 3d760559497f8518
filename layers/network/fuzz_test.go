package network

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/engine"
	"github.com/rampart-ai/rampart/netguard"
)

// FuzzVerdict: arbitrary lists and client addresses never panic; deny
// wins; a refusal always names a rule.
func FuzzVerdict(f *testing.F) {
	for _, tc := range ipCases {
		f.Add(strings.Join(tc.allow, "\n"), strings.Join(tc.deny, "\n"), tc.ip)
	}
	f.Fuzz(func(t *testing.T, allow, deny, ip string) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, "\n")
		}
		cfg := Config{Allow: split(allow), Deny: split(deny)}
		l := New(cfg)
		if err := l.Provision(&engine.Host{}); err != nil {
			return
		}
		d, err := l.OnHeaders(&engine.Tx{ClientIP: ip})
		if err != nil {
			t.Fatal(err)
		}
		a := netguard.ParseAddr(ip)
		if l.c.deny.Contains(a) && d.Rule != ruleDenied {
			t.Fatalf("denied address passed: %+v", d)
		}
		if (d.Action == engine.Block) != (d.Rule != "") || (d.Action == engine.Block && d.Status != 403) {
			t.Fatalf("inconsistent decision %+v", d)
		}
	})
}

// FuzzConfig decodes arbitrary YAML as the layer's section: errors are
// fine, panics are not.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("allow: [10.0.0.0/8]\ndeny: [10.6.6.6]"))
	f.Add([]byte("deny: ['::/0', '::ffff:1.2.3.0/120']"))
	f.Add([]byte("allow: 5"))
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
		if err := l.Provision(&engine.Host{}); err != nil {
			return
		}
		if _, err := l.OnHeaders(&engine.Tx{ClientIP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	})
}
