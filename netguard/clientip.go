package netguard

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
)

// MaxForwardedHops bounds how many X-Forwarded-For entries Resolve walks
// (right to left). A longer chain of trusted hops resolves to the last one
// examined.
const MaxForwardedHops = 32

// Resolver finds a request's client address. Without trusted proxies it is
// the TCP peer and X-Forwarded-For is ignored, since any client can send
// one. With trusted proxies, and only when the TCP peer is one of them,
// X-Forwarded-For is read right to left: each entry inside a trusted CIDR
// is a proxy hop and skipped, and the first entry outside them is the
// client. If every entry is trusted, the leftmost one is the client. An
// entry that is not an IP address ends the walk: the client is then the
// last trusted hop seen (the proxy that relayed the garbage), never an
// address to the left of it, which the client could have forged.
type Resolver struct {
	trusted *PrefixSet
}

// NewResolver builds a resolver trusting the given proxy CIDRs (nil: none).
func NewResolver(trusted *PrefixSet) *Resolver { return &Resolver{trusted: trusted} }

// Trusted reports whether a is a trusted proxy.
func (r *Resolver) Trusted(a netip.Addr) bool { return r != nil && r.trusted.Contains(a) }

// Resolve returns the client address of a request from peer (its
// RemoteAddr, "ip:port") and its X-Forwarded-For header values in order.
// The result is the zero Addr only when peer itself is not an address
// (e.g. a unix socket), in which case there is no client address.
func (r *Resolver) Resolve(peer string, xff []string) netip.Addr {
	client := ParseAddr(peer)
	if !client.IsValid() || !r.Trusted(client) || len(xff) == 0 {
		return client
	}
	hops := 0
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for v != "" {
			var entry string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				entry, v = v[j+1:], v[:j]
			} else {
				entry, v = v, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue // "a, , b" or a trailing comma: no hop
			}
			hops++
			if hops > MaxForwardedHops {
				return client
			}
			a := ParseAddr(entry)
			if !a.IsValid() {
				return client
			}
			client = a
			if !r.Trusted(a) {
				return client
			}
		}
	}
	return client
}

// ResolveRequest resolves r's client address (see Resolve).
func (r *Resolver) ResolveRequest(req *http.Request) netip.Addr {
	var xff []string
	if r != nil && r.trusted.Len() > 0 {
		xff = req.Header.Values("X-Forwarded-For")
	}
	return r.Resolve(req.RemoteAddr, xff)
}

type clientIPKey struct{}

// WithClientAddr returns ctx carrying the resolved client address.
func WithClientAddr(ctx context.Context, a netip.Addr) context.Context {
	return context.WithValue(ctx, clientIPKey{}, a)
}

// ClientAddr returns the client address Handler stored in ctx.
func ClientAddr(ctx context.Context) (netip.Addr, bool) {
	a, ok := ctx.Value(clientIPKey{}).(netip.Addr)
	return a, ok
}

// ClientIP returns r's client address as text: the one Handler resolved
// (trusted-proxy aware) when r passed it, else the TCP peer's address. It
// is "" when neither is an IP address.
func ClientIP(r *http.Request) string {
	a, ok := ClientAddr(r.Context())
	if !ok {
		a = ParseAddr(r.RemoteAddr)
	}
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
