package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Denial is a refused authentication or authorisation, ready to become an
// HTTP answer (the gateway layer and the admin API render it in their own
// error shape).
type Denial struct {
	Status  int
	Code    string
	Message string
	Headers map[string]string
}

// Authorize authenticates c and checks the permission table for method and
// path. It returns:
//   - the principal and no denial when the call may go ahead;
//   - a nil principal and no denial for an anonymous call that may go ahead:
//     a public route, or any route when allowAnonymous is true and the
//     service does not require authentication (the admin API passes false);
//   - a denial (401 missing or invalid credentials, 429 while the client IP
//     is locked out, 503 when the store is unavailable, 403 without the
//     permission — then with the principal, so it can be audited);
//   - an error only for an unexpected failure, which callers fail closed on.
func (s *Service) Authorize(ctx context.Context, c Credentials, method, path string, allowAnonymous bool) (*Principal, *Denial, error) {
	p, err := s.Authenticate(ctx, c)
	var locked *LockedOutError
	switch {
	case err == nil:
	case errors.Is(err, ErrNoCredentials):
		if allowAnonymous && !s.RequireAuth() {
			return nil, nil, nil
		}
		if perm, ok := RequiredPermission(method, path); ok && perm == PermPublic {
			return nil, nil, nil
		}
		return nil, &Denial{Status: http.StatusUnauthorized, Code: "invalid_api_key",
			Message: "Missing credentials: send 'Authorization: Bearer <key>'.",
			Headers: map[string]string{"WWW-Authenticate": `Bearer realm="rampart"`}}, nil
	case errors.Is(err, ErrInvalidCredentials):
		return nil, &Denial{Status: http.StatusUnauthorized, Code: "invalid_api_key",
			Message: "Invalid credentials: the API key or token is unknown, expired or revoked.",
			Headers: map[string]string{"WWW-Authenticate": `Bearer realm="rampart", error="invalid_token"`}}, nil
	case errors.As(err, &locked):
		return nil, locked.denial(), nil
	case errors.Is(err, ErrUnavailable):
		return nil, &Denial{Status: http.StatusServiceUnavailable, Code: "identity_unavailable",
			Message: "Authentication is temporarily unavailable."}, nil
	default:
		return nil, nil, err
	}
	if !Allowed(method, path, p.Role) {
		return p, &Denial{Status: http.StatusForbidden, Code: "permission_denied",
			Message: fmt.Sprintf("Role %q may not call %s %s.", p.Role, method, path)}, nil
	}
	return p, nil, nil
}

// denial is the 429 answer to a throttled failure.
func (e *LockedOutError) denial() *Denial {
	return &Denial{Status: http.StatusTooManyRequests, Code: "too_many_auth_failures",
		Message: "Too many failed authentications from this address; retry later.",
		Headers: map[string]string{"Retry-After": strconv.Itoa(int(e.RetryAfter.Seconds()) + 1)}}
}

// FailedAuth is the failed-authentication throttle for credentials this
// service does not check itself (the admin console's session cookie or an
// OIDC sign-in; every API key, JWT and client certificate already passes
// through Authenticate, which calls it). Call it once per failed attempt
// from clientIP (netguard.ClientIP of the request). It counts the failure
// toward lockout.max_failures exactly as Authenticate counts its own;
// while the address is throttled it pauses briefly and returns the 429
// denial to answer with (Retry-After in Headers); otherwise nil, and the
// caller answers with its own 401. Never call it for a valid credential:
// only failures are throttled, so valid callers from the same address
// keep passing.
func (s *Service) FailedAuth(ctx context.Context, clientIP string) *Denial {
	var locked *LockedOutError
	if err := s.failed(ctx, clientIP, s.now()); errors.As(err, &locked) {
		return locked.denial()
	}
	return nil
}
