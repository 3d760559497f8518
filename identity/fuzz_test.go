package identity_test

import (
	"net/http"
	"testing"

	"github.com/rampart-ai/rampart/identity"
)

// FuzzAuthenticate feeds arbitrary Authorization and x-api-key values:
// never a panic, never a principal without a real key.
func FuzzAuthenticate(f *testing.F) {
	db := openDB(f)
	s := newSvc(f, db, identity.Config{Lockout: identity.LockoutConfig{MaxFailures: -1}}, nil)
	for _, seed := range [][2]string{
		{"Bearer rk_abc", ""}, {"", "rk_" + "0123456789012345678901234567890123456789012"},
		{"Bearer a.b.c", ""}, {"Basic xyz", ""}, {"Bearer ", "x"}, {"bearer\trk_", ""},
		{"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, authz, apiKey string) {
		h := http.Header{}
		if authz != "" {
			h.Set("Authorization", authz)
		}
		if apiKey != "" {
			h.Set("X-Api-Key", apiKey)
		}
		p, err := s.Authenticate(ctx, identity.Credentials{Header: h, ClientIP: "192.0.2.7"})
		if err == nil || p != nil {
			t.Fatalf("fuzzed credentials authenticated: %+v", p)
		}
	})
}

func FuzzLooksLikeKey(f *testing.F) {
	k, _ := identity.NewKey()
	f.Add(k)
	f.Add("rk_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if identity.LooksLikeKey(s) && (len(s) != 46 || s[:3] != "rk_") {
			t.Fatalf("accepted %q", s)
		}
		m := identity.MaskKey(s)
		if len(s) > 12 && len(m) >= len(s) {
			t.Fatalf("mask reveals everything: %q", m)
		}
	})
}
