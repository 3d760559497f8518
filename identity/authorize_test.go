package identity_test

import (
	"net/http"
	"testing"

	"github.com/rampart-ai/rampart/identity"
)

// Authorize maps every outcome of authentication and the permission table
// to a principal, a denial or an anonymous pass — and never lets an
// anonymous caller through where allowAnonymous is false (the admin API),
// even with require_auth off.
func TestAuthorize(t *testing.T) {
	off := false
	for _, requireAuth := range []*bool{nil, &off} {
		db := openDB(t)
		s := newSvc(t, db, identity.Config{RequireAuth: requireAuth}, newClock())
		mustTenant(t, s, "acme")
		user, _ := mustKey(t, s, identity.KeySpec{Name: "u", Tenant: "acme", Role: identity.RoleUser})
		viewer, _ := mustKey(t, s, identity.KeySpec{Name: "v", Tenant: "acme", Role: identity.RoleViewer})
		anonymousOK := requireAuth != nil && !*requireAuth
		none := identity.Credentials{Header: http.Header{}}
		cases := []struct {
			name        string
			creds       identity.Credentials
			method      string
			path        string
			allowAnon   bool
			wantStatus  int // 0: allowed
			wantPrincip bool
		}{
			{"user calls chat", bearer(user), "POST", "/v1/chat/completions", true, 0, true},
			{"viewer calls chat", bearer(viewer), "POST", "/v1/chat/completions", true, http.StatusForbidden, true},
			{"unknown key", bearer("rk_" + "x0123456789012345678901234567890123456789ab"), "POST", "/v1/chat/completions", true, http.StatusUnauthorized, false},
			{"no key, public route", none, "GET", "/healthz", false, 0, false},
			{"no key, model route", none, "POST", "/v1/chat/completions", true, map[bool]int{true: 0, false: http.StatusUnauthorized}[anonymousOK], false},
			{"no key, admin route", none, "GET", "/admin/keys", false, http.StatusUnauthorized, false},
			{"user on admin route", bearer(user), "POST", "/admin/keys", false, http.StatusForbidden, true},
		}
		for _, c := range cases {
			p, den, err := s.Authorize(ctx, c.creds, c.method, c.path, c.allowAnon)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			status := 0
			if den != nil {
				status = den.Status
				if den.Code == "" || den.Message == "" {
					t.Errorf("%s: incomplete denial %+v", c.name, den)
				}
			}
			if status != c.wantStatus || (p != nil) != c.wantPrincip {
				t.Errorf("require_auth=%v %s: status %d principal %v, want %d %v", !anonymousOK, c.name, status, p != nil, c.wantStatus, c.wantPrincip)
			}
		}
	}
}
