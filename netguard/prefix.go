package netguard

import (
	"fmt"
	"net/netip"
	"strings"
)

// MaxPrefixes bounds a CIDR list (trusted proxies, allow or deny list).
const MaxPrefixes = 100_000

// ParsePrefix parses one CIDR ("10.0.0.0/8", "2001:db8::/32") or a single
// address ("192.0.2.1", a /32 or /128). Host bits are cleared. An
// IPv4-mapped IPv6 prefix ("::ffff:10.0.0.0/104") becomes the IPv4 prefix
// it denotes, so it matches the IPv4 clients it names; a zone is refused.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, fmt.Errorf("empty address")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		p, err = netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or 2001:db8::/32", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	a := p.Addr()
	if a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped prefix needs at least 96 bits", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// ParsePrefixes parses a list with ParsePrefix; the error names the first
// bad entry by index.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	if len(list) > MaxPrefixes {
		return nil, fmt.Errorf("%d entries: at most %d", len(list), MaxPrefixes)
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// normalize makes a as the guards compare it: IPv4-mapped IPv6 becomes
// IPv4 and any zone is dropped.
func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// ParseAddr parses a client address as the guards compare it: an IP
// address, optionally bracketed or with a port ("192.0.2.1:443",
// "[2001:db8::1]:443"), normalised (IPv4-mapped IPv6 unmapped, zone
// dropped). It returns the zero Addr when s is none of these.
func ParseAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}
	}
	// Pick the one parse that can succeed: failed parses allocate errors.
	switch {
	case s[0] == '[' && s[len(s)-1] == ']':
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return normalize(a)
		}
	case s[0] == '[' || strings.Count(s, ":") == 1:
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return normalize(ap.Addr())
		}
	default:
		if a, err := netip.ParseAddr(s); err == nil {
			return normalize(a)
		}
	}
	return netip.Addr{}
}
