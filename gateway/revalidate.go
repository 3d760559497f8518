package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/netguard"
)

// revalidateEvery is how often a request still running (a stream, an MCP
// server stream) checks again that its credential works and is not
// blocked. Requests that end sooner cost one timer.
const revalidateEvery = 5 * time.Second

// errCredentialGone ends a running request whose key was revoked, expired
// or rotated out, or whose key, user or address was blocked after it
// started.
var errCredentialGone = errors.New("gateway: the request's credential was revoked or blocked while it ran")

// revalidate returns r with a context that is cancelled (ending the
// stream and the upstream call) once r's API key stops authenticating or
// its key, user or address is blocked, checked every g.revalidate (default
// revalidateEvery) while the request runs; stop ends the checks. Checks
// only begin after the first period, so short requests pay a timer. A
// token (JWT, mTLS) is checked against blocks only, not re-verified: its
// expiry mid-stream does not end the stream. A store outage ends nothing.
func (g *Gateway) revalidate(r *http.Request) (*http.Request, func()) {
	if g.ident == nil {
		return r, func() {}
	}
	every := g.revalidatePeriod
	if every <= 0 {
		every = revalidateEvery
	}
	ctx, cancel := context.WithCancelCause(r.Context())
	// The credential headers are copied: the handler may change r.Header
	// while a check runs.
	hdr := make(http.Header, 2)
	for _, k := range [...]string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Api-Key"} {
		if v := r.Header.Values(k); len(v) > 0 {
			hdr[k] = append([]string(nil), v...)
		}
	}
	creds := identity.Credentials{Header: hdr, ClientIP: netguard.ClientIP(r), TLS: r.TLS}
	var t *time.Timer
	// Armed by Reset only once t is set, so the callback never sees it nil;
	// after stop a callback that was running may re-arm it, and the next
	// run returns at once (the context is done).
	t = time.AfterFunc(time.Duration(1<<62), func() {
		if ctx.Err() != nil {
			return
		}
		if g.credentialGone(ctx, r, creds) {
			cancel(errCredentialGone)
			return
		}
		t.Reset(every)
	})
	t.Reset(every)
	return r.WithContext(ctx), func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// credentialGone reports whether the credentials of r no longer
// authenticate (an API key revoked, expired or rotated out) or are blocked.
func (g *Gateway) credentialGone(ctx context.Context, r *http.Request, creds identity.Credentials) bool {
	actx, done := context.WithTimeout(ctx, 2*time.Second)
	defer done()
	p, err := g.ident.Authenticate(actx, creds)
	switch {
	case errors.Is(err, identity.ErrInvalidCredentials):
		// Only an API key is judged again: a token's expiry mid-stream
		// does not end the stream (it was valid when the call began).
		return hasAPIKey(creds.Header)
	case err != nil || p == nil:
		return false // no credentials, or the store is unavailable
	}
	return g.gate != nil && g.gate(r, p) != nil
}

// hasAPIKey reports whether h carries a rampart API key.
func hasAPIKey(h http.Header) bool {
	for _, k := range [...]string{"X-Api-Key", "X-Goog-Api-Key", "Api-Key"} {
		if strings.HasPrefix(strings.TrimSpace(h.Get(k)), identity.KeyPrefix) {
			return true
		}
	}
	_, tok, _ := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	return strings.HasPrefix(strings.TrimSpace(tok), identity.KeyPrefix)
}
