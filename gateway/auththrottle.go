package gateway

import (
	"net/http"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/netguard"
)

// AuthFailed is the failed-authentication throttle for routes that check a
// credential of their own instead of an API key, JWT or client certificate
// (the /ui/ console's session cookie or OIDC sign-in): call it once per
// failed attempt. It counts the failure against the client address (the
// same count, limits and lockout as every API route, see
// identity.Service.FailedAuth); while the address is throttled it returns
// the 429 denial to answer with (after a short pause), else nil and the
// route answers with its own 401. Never call it for a valid credential.
// Nil when the identity layer is off (nothing is throttled then).
func (g *Gateway) AuthFailed(r *http.Request) *identity.Denial {
	if g.ident == nil {
		return nil
	}
	return g.ident.FailedAuth(r.Context(), netguard.ClientIP(r))
}
