package identity_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/rampart-ai/rampart/identity"
)

// lockoutSvc is a service with the default lockout, a valid key of tenant
// acme and an unknown one.
func lockoutSvc(t *testing.T) (s *identity.Service, good, bad string) {
	t.Helper()
	s = newSvc(t, openDB(t), identity.Config{}, newClock())
	mustTenant(t, s, "acme")
	good, _ = mustKey(t, s, identity.KeySpec{Tenant: "acme", Role: identity.RoleUser})
	bad, _ = identity.NewKey()
	return s, good, bad
}

// TestFailedAuthHook: failures a caller checked itself (the console's
// session cookie, an OIDC sign-in) count toward the same lockout as bad
// keys; once throttled, the hook and bad keys get 429 and valid keys pass.
func TestFailedAuthHook(t *testing.T) {
	s, good, bad := lockoutSvc(t)
	for i := 0; i < 5; i++ {
		if d := s.FailedAuth(ctx, "192.0.2.1"); d != nil {
			t.Fatalf("failure %d throttled already: %+v", i, d)
		}
		if _, err := s.Authenticate(ctx, bearer(bad)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("bad key %d: %v", i, err)
		}
	}
	d := s.FailedAuth(ctx, "192.0.2.1")
	if d == nil || d.Status != http.StatusTooManyRequests || d.Code != "too_many_auth_failures" || d.Headers["Retry-After"] == "" {
		t.Fatalf("11th failure: %+v", d)
	}
	var locked *identity.LockedOutError
	if _, err := s.Authenticate(ctx, bearer(bad)); !errors.As(err, &locked) {
		t.Fatalf("bad key after hook failures: %v", err)
	}
	if _, err := s.Authenticate(ctx, bearer(good)); err != nil {
		t.Fatalf("valid key from the throttled address: %v", err)
	}
	if d := s.FailedAuth(ctx, "192.0.2.2"); d != nil {
		t.Fatalf("another address throttled: %+v", d)
	}
}

// TestLockoutIPv6Prefix: an attacker holding an IPv6 /64 does not get a
// fresh failure count per address; another /64 is unaffected.
func TestLockoutIPv6Prefix(t *testing.T) {
	s, good, bad := lockoutSvc(t)
	from := func(tok, ip string) identity.Credentials {
		c := bearer(tok)
		c.ClientIP = ip
		return c
	}
	for i := 0; i < 10; i++ {
		ip := "2001:db8:1:2::" + strconv.Itoa(i+1)
		if _, err := s.Authenticate(ctx, from(bad, ip)); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	var locked *identity.LockedOutError
	if _, err := s.Authenticate(ctx, from(bad, "2001:db8:1:2:ffff::1")); !errors.As(err, &locked) {
		t.Fatalf("a new address in the same /64: %v", err)
	}
	if _, err := s.Authenticate(ctx, from(good, "2001:db8:1:2::77")); err != nil {
		t.Fatalf("valid key from the /64: %v", err)
	}
	if _, err := s.Authenticate(ctx, from(bad, "2001:db8:1:3::1")); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("another /64: %v", err)
	}
	// IPv4 (also written IPv4-mapped) is counted per address.
	for i := 0; i < 10; i++ {
		_, _ = s.Authenticate(ctx, from(bad, "198.51.100.1"))
	}
	if _, err := s.Authenticate(ctx, from(bad, "::ffff:198.51.100.1")); !errors.As(err, &locked) {
		t.Fatalf("IPv4-mapped form of a locked address: %v", err)
	}
	if _, err := s.Authenticate(ctx, from(bad, "198.51.100.2")); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("neighbouring IPv4 address: %v", err)
	}
}
