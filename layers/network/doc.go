// Package network is rampart's IP allow/deny layer, the first layer of the
// chain (defense-in-depth layer 1). In the headers phase, before
// authentication and before the body is read, it compares the client
// address (tx.ClientIP, which the gateway resolves with its trusted-proxy
// list, see package netguard) with CIDR deny and allow lists: a denied
// address, or one outside a non-empty allow list, is refused with 403 and
// code ip_not_allowed. Deny wins over allow; an empty allow list allows
// every address not denied. IPv4-mapped IPv6 addresses are compared as
// IPv4. The answer does not echo the address or the matching rule.
//
// The rest of layer 1 (TLS, connection caps, timeouts, size limits,
// security headers, CORS) lives in the gateway server, packages netguard
// and tlsserve; see this folder's README.
package network
