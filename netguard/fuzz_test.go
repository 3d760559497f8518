package netguard

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzResolve feeds arbitrary peers and X-Forwarded-For values: no
// panic, and the answer is the peer or an address that occurs in the
// header; with an untrusted peer it is always the peer.
func FuzzResolve(f *testing.F) {
	for _, tc := range resolveCases {
		f.Add(tc.peer, strings.Join(tc.xff, "\n"))
	}
	f.Add("10.0.0.2:1", strings.Repeat("10.0.0.1,", 100))
	f.Add("10.0.0.2:1", "[::1, ]:, [fe80::1%25x]:1")
	r := NewResolver(mustSet(f, "10.0.0.0/8", "fd00::/8"))
	f.Fuzz(func(t *testing.T, peer, xff string) {
		lines := strings.Split(xff, "\n")
		got := r.Resolve(peer, lines)
		p := ParseAddr(peer)
		if !p.IsValid() {
			if got.IsValid() {
				t.Fatalf("client %s for a non-address peer", got)
			}
			return
		}
		if !got.IsValid() || got.Is4In6() || got.Zone() != "" {
			t.Fatalf("bad client address %v", got)
		}
		if !r.Trusted(p) && got != p {
			t.Fatalf("untrusted peer %s resolved to %s", p, got)
		}
		if got == p {
			return
		}
		found := false
		for _, l := range lines {
			for _, e := range strings.Split(l, ",") {
				if ParseAddr(e) == got {
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("client %s is neither the peer nor in the header", got)
		}
	})
}

// FuzzParsePrefix: no panic; a parsed prefix is masked, not IPv4-mapped
// and contains its own address.
func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.1.2.3/8", "192.0.2.1", "2001:db8::/32", "::ffff:10.0.0.0/104",
		"::ffff:0:0/90", "fe80::1%eth0", "", "1.2.3.4/33", "::/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || !p.Contains(p.Addr()) {
			t.Fatalf("ParsePrefix(%q) = %v", s, p)
		}
		if !NewPrefixSet([]netip.Prefix{p}).Contains(p.Addr()) {
			t.Fatalf("set of %v does not contain its address", p)
		}
	})
}

// FuzzCheckOrigin: no panic; accepted patterns are usable by the CORS
// middleware.
func FuzzCheckOrigin(f *testing.F) {
	for _, s := range []string{"*", "https://app.example.com", "https://*.example.com", "http://localhost:3000",
		"https://a.*.*", "ftp://x", "https://Example.com", "https://x/path", "https://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckOrigin(s) != nil {
			return
		}
		if _, err := newCORS(CORS{AllowedOrigins: []string{s}}); err != nil {
			t.Fatalf("accepted origin %q unusable: %v", s, err)
		}
	})
}
