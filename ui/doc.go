// Package ui is rampart's admin console: server-rendered HTML pages served
// by the gateway at /ui/ (templates and static files embedded with
// go:embed; no CDN, no front-end build, no inline script or style).
//
// The console adds no privilege. It signs an operator in with a rampart
// API key (or an OpenID Connect ID token from the configured issuer),
// keeps that credential in a server-side session behind an opaque,
// HttpOnly, SameSite=Strict cookie with a short lifetime, and serves every
// page and every action by calling the gateway's own admin API (and
// /v1/scan) with that credential: the permission table, the tenant scope,
// the blocklist gate and the audit of administrative actions apply exactly
// as they do to API clients, on every request. A key revoked or blocked
// while signed in loses the console at its next request.
//
// State-changing requests need the session's CSRF token and a same-origin
// Origin / Sec-Fetch-Site; every answer carries a strict Content Security
// Policy (default-src 'self', frame-ancestors 'none').
package ui
