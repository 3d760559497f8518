package identity_test

import (
	"net/http"
	"testing"

	"github.com/rampart-ai/rampart/identity"
)

// BenchmarkAuthenticateKeyCacheHit: a valid key whose entry is cached
// (HMAC of the key, LRU lookup, constant-time compare, last-used record).
func BenchmarkAuthenticateKeyCacheHit(b *testing.B) {
	db := openDB(b)
	s := newSvc(b, db, identity.Config{}, nil)
	mustTenant(b, s, "acme")
	plain, _ := mustKey(b, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	cred := identity.Credentials{Header: http.Header{"Authorization": {"Bearer " + plain}}, ClientIP: "192.0.2.1"}
	if _, err := s.Authenticate(ctx, cred); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Authenticate(ctx, cred); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAuthenticateKeyCacheHitSerial(b *testing.B) {
	db := openDB(b)
	s := newSvc(b, db, identity.Config{}, nil)
	mustTenant(b, s, "acme")
	plain, _ := mustKey(b, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	cred := identity.Credentials{Header: http.Header{"Authorization": {"Bearer " + plain}}, ClientIP: "192.0.2.1"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := s.Authenticate(ctx, cred); err != nil {
			b.Fatal(err)
		}
	}
}
