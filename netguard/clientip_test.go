package netguard

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func mustSet(t testing.TB, cidrs ...string) *PrefixSet {
	t.Helper()
	ps, err := ParsePrefixes(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return NewPrefixSet(ps)
}

// resolveCases are shared by TestResolve and the fuzz seed corpus.
var resolveCases = []struct {
	name    string
	trusted []string
	peer    string
	xff     []string
	want    string
}{
	{"no proxies: peer", nil, "203.0.113.7:5555", nil, "203.0.113.7"},
	{"no proxies: XFF ignored (spoofing)", nil, "203.0.113.7:5555", []string{"1.2.3.4"}, "203.0.113.7"},
	{"untrusted peer: XFF ignored", []string{"10.0.0.0/8"}, "203.0.113.7:5555", []string{"1.2.3.4"}, "203.0.113.7"},
	{"trusted peer, one hop", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"198.51.100.9"}, "198.51.100.9"},
	{"client-forged left entries skipped", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
	{"chain of trusted proxies", []string{"10.0.0.0/8", "192.168.0.0/16"}, "10.0.0.2:80",
		[]string{"6.6.6.6, 198.51.100.9, 192.168.1.1, 10.1.1.1"}, "198.51.100.9"},
	{"several header lines are one list", []string{"10.0.0.0/8"}, "10.0.0.2:80",
		[]string{"6.6.6.6", "198.51.100.9, 10.9.9.9"}, "198.51.100.9"},
	{"all hops trusted: leftmost", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"10.5.5.5, 10.6.6.6"}, "10.5.5.5"},
	{"trusted peer, no XFF", []string{"10.0.0.0/8"}, "10.0.0.2:80", nil, "10.0.0.2"},
	{"garbage ends the walk at the last trusted hop", []string{"10.0.0.0/8"}, "10.0.0.2:80",
		[]string{"1.1.1.1, nonsense, 10.3.3.3"}, "10.3.3.3"},
	{"garbage right after the peer", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"1.1.1.1, <script>"}, "10.0.0.2"},
	{"empty entries skipped", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{" , 198.51.100.9 , ,"}, "198.51.100.9"},
	{"entry with port", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"198.51.100.9:4711"}, "198.51.100.9"},
	{"bracketed IPv6 with port", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"[2001:db8::5]:4711"}, "2001:db8::5"},
	{"bracketed IPv6", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"[2001:db8::5]"}, "2001:db8::5"},
	{"IPv6 peer and hops", []string{"2001:db8:ffff::/48"}, "[2001:db8:ffff::1]:443", []string{"2001:db8:1::7, 2001:db8:ffff::2"}, "2001:db8:1::7"},
	{"IPv4-mapped peer matches IPv4 CIDR", []string{"10.0.0.0/8"}, "[::ffff:10.0.0.2]:80", []string{"198.51.100.9"}, "198.51.100.9"},
	{"IPv4-mapped client unmapped", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"::ffff:198.51.100.9"}, "198.51.100.9"},
	{"IPv4-mapped hop is trusted", []string{"10.0.0.0/8"}, "10.0.0.2:80", []string{"198.51.100.9, ::ffff:10.1.1.1"}, "198.51.100.9"},
	{"zone dropped", []string{"fe80::/10"}, "[fe80::1%eth0]:80", []string{"198.51.100.9"}, "198.51.100.9"},
	{"single trusted address", []string{"127.0.0.1"}, "127.0.0.1:9", []string{"198.51.100.9"}, "198.51.100.9"},
	{"peer not an address", []string{"10.0.0.0/8"}, "@", []string{"198.51.100.9"}, "invalid IP"},
}

func TestResolve(t *testing.T) {
	for _, tc := range resolveCases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewResolver(mustSet(t, tc.trusted...))
			if got := r.Resolve(tc.peer, tc.xff).String(); got != tc.want {
				t.Fatalf("Resolve = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestResolveHopLimit(t *testing.T) {
	r := NewResolver(mustSet(t, "10.0.0.0/8"))
	xff := "6.6.6.6"
	for i := 0; i < MaxForwardedHops+5; i++ {
		xff += ", 10.0.0.1"
	}
	if got := r.Resolve("10.0.0.2:1", []string{xff}); got.String() != "10.0.0.1" {
		t.Fatalf("got %s: a long trusted chain must stop at a trusted hop", got)
	}
}

func TestClientIP(t *testing.T) {
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "[::ffff:192.0.2.4]:1234"
	if got := ClientIP(req); got != "192.0.2.4" {
		t.Fatalf("fallback ClientIP = %q", got)
	}
	req = req.WithContext(WithClientAddr(context.Background(), netip.MustParseAddr("198.51.100.1")))
	if got := ClientIP(req); got != "198.51.100.1" {
		t.Fatalf("context ClientIP = %q", got)
	}
	req.RemoteAddr = "pipe"
	req = req.WithContext(context.Background())
	if got := ClientIP(req); got != "" {
		t.Fatalf("non-IP peer = %q", got)
	}
	// The header is read only with trusted proxies configured.
	req = httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.2:1"
	req.Header.Set("X-Forwarded-For", "198.51.100.9")
	if got := (*Resolver)(nil).ResolveRequest(req).String(); got != "10.0.0.2" {
		t.Fatalf("nil resolver: %s", got)
	}
	if got := NewResolver(mustSet(t, "10.0.0.0/8")).ResolveRequest(req).String(); got != "198.51.100.9" {
		t.Fatalf("trusted: %s", got)
	}
}

func TestParsePrefix(t *testing.T) {
	cases := []struct{ in, want string }{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{" 192.0.2.1 ", "192.0.2.1/32"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"::/0", "::/0"},
		{"", "error"},
		{"10.0.0.0/33", "error"},
		{"::ffff:0:0/90", "error"},
		{"fe80::1%eth0", "error"},
		{"example.com", "error"},
		{"10.0.0.0/8/8", "error"},
	}
	for _, tc := range cases {
		p, err := ParsePrefix(tc.in)
		got := p.String()
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("ParsePrefix(%q) = %s (%v), want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/8", "bad"}); err == nil || err.Error()[:3] != "[1]" {
		t.Fatalf("error does not name the entry: %v", err)
	}
}

func TestPrefixSet(t *testing.T) {
	s := mustSet(t, "10.0.0.0/8", "2001:db8::/32", "::ffff:192.168.0.0/112")
	for addr, want := range map[string]bool{
		"10.2.3.4": true, "11.0.0.1": false, "::ffff:10.2.3.4": true, "2001:db8::9": true,
		"2001:db9::1": false, "192.168.7.7": true, "::ffff:192.168.7.7": true, "192.169.0.1": false,
	} {
		if got := s.Contains(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Contains(%s) = %v", addr, got)
		}
	}
	var empty *PrefixSet
	if empty.Contains(netip.MustParseAddr("10.0.0.1")) || s.Contains(netip.Addr{}) {
		t.Fatal("empty set or zero address matched")
	}
}
