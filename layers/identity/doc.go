// Package identity is the gateway's identity layer: the first layer of the
// chain. It authenticates every request (API key, JWT/OIDC, or client
// certificate — see package rampart/identity), sets tx.Identity, and
// authorises it: the route's permission from the one permission table
// (identity/permissions.go) and the tenant's and key's model allow-lists.
// Failures answer OpenAI-shaped errors: 401 invalid_api_key, 403
// permission_denied / model_not_allowed, 429 too_many_auth_failures, and
// 503 identity_unavailable when the store cannot be read (fail closed).
package identity
