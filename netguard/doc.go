// Package netguard holds rampart's network-level guards (defense-in-depth
// layer 1) that sit in front of the engine:
//
//   - client-address resolution with trusted proxies: X-Forwarded-For is
//     read right to left, skipping hops inside trusted CIDRs, and ignored
//     entirely when the TCP peer is not a trusted proxy (Resolver, ClientIP);
//   - a net.Listener wrapper that caps open connections per client IP and in
//     total, closing excess connections at accept time (LimitListener);
//   - an HTTP middleware (Handler) that stores the resolved client address
//     in the request context, sets security headers (HSTS over TLS,
//     X-Content-Type-Options: nosniff, Cache-Control: no-store), applies a
//     per-write deadline against clients that stop reading, and answers
//     CORS (off unless origins are allow-listed) before authentication;
//   - CIDR parsing shared by the trusted-proxy list and the network layer's
//     allow/deny lists (ParsePrefixes), with IPv4-mapped IPv6 normalised.
//
// The IP allow/deny decision itself is the network layer (layers/network),
// so it runs in the engine's chain with monitor mode, audit and metrics.
// TLS termination with certificate reload is package tlsserve.
package netguard
