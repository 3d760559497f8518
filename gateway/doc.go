// Package gateway is rampart's HTTP server: it serves the OpenAI and
// Anthropic API routes through the security engine to the configured
// upstreams (or to the built-in demo model when none is configured), plus
// /healthz, /readyz and /metrics.
//
// Clients authenticate to rampart, never to the provider: the gateway
// strips the client's Authorization and x-api-key headers and sets the
// provider credential from the upstream's api_key_env itself. Requests are
// routed to the first upstream whose model globs match (an upstream without
// globs is its provider's fallback), within the routes it allows.
// Connection failures answer 502 and timeouts 504, in the route's error
// shape and with the request id in the message; a stream whose upstream
// goes quiet for stream_idle_timeout ends with an in-band error event.
//
// Routes lists every route the gateway serves, for tests that must cover
// them all (e.g. an authorization matrix).
package gateway
