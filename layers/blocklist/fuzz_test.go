package blocklist

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rampart-ai/rampart/store"
)

// FuzzBlockValue normalises arbitrary block values of every kind: errors
// are fine, panics are not; whatever normalises must be stable (normalising
// again changes nothing) and, for addresses and networks, must match in
// the cache exactly the addresses it covers.
func FuzzBlockValue(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1%eth0", "198.51.100.0/24", "198.51.100.7/24",
		"::ffff:10.0.0.0/104", "10.0.0.1/32", "2001:db8::/129", "0.0.0.0/0", "::/0", "key_abc", "key abc", "mallory",
		"", " ", "\x00", "é", "300.1.1.1", "1.2.3.4/", strings.Repeat("a", 300)} {
		for _, k := range []string{store.BlockIP, store.BlockCIDR, store.BlockKey, store.BlockUser} {
			f.Add(k, s, "198.51.100.9")
		}
	}
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, kind, value, probe string) {
		b, err := store.NormalizeBlock(store.Block{Kind: kind, Value: value, Tenant: "acme", Action: store.ActionBlock,
			ExpiresAt: now.Add(time.Hour)}, now)
		if err != nil {
			return
		}
		again, err := store.NormalizeBlock(b, now)
		if err != nil || again != b {
			t.Fatalf("not stable: %+v -> %+v, %v", b, again, err)
		}
		b.ID = "blk_0000000000000001"
		s := build([]store.Block{b}, now)
		if b.Kind != store.BlockIP && b.Kind != store.BlockCIDR {
			return
		}
		p, ok := prefixOf(&b)
		if !ok {
			t.Fatalf("normalised %s %q does not parse", b.Kind, b.Value)
		}
		a, err := netip.ParseAddr(probe)
		if err != nil {
			return
		}
		a = a.Unmap().WithZone("")
		got, _ := s.ipBlock.Lookup(a)
		if (got != nil) != p.Contains(a) {
			t.Fatalf("%s %q, probe %s: lookup %v, contains %v", b.Kind, b.Value, a, got != nil, p.Contains(a))
		}
	})
}

// FuzzConfig decodes arbitrary YAML as the layer's section: errors are
// fine, panics are not.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("refresh_interval: 1s"))
	f.Add([]byte("incident: {enabled: true, thresholds: [{scope: key, score: 5, action: block, ttl: 1h}]}"))
	f.Add([]byte("incident: {severities: {leak: -1}}"))
	f.Add([]byte("incident: {webhooks: [{url: 'http://x', secret_env: S}]}"))
	if data, err := os.ReadFile("testdata/blocklist.yaml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Module.New(func(into any) error {
			dec := yaml.NewDecoder(strings.NewReader(string(data)))
			dec.KnownFields(true)
			return dec.Decode(into)
		})
		_ = err
		cfg := Defaults()
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if dec.Decode(&cfg) != nil {
			return
		}
		cfg.fill()
		_ = cfg.Validate()
	})
}
