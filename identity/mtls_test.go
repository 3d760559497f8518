package identity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/rampart-ai/rampart/identity"
)

func cert(t *testing.T, cn string, dns ...string) *x509.Certificate {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestMTLS(t *testing.T) {
	db := openDB(t)
	s := newSvc(t, db, identity.Config{MTLS: identity.MTLSConfig{Identities: map[string]identity.MTLSIdentity{
		"batch-job": {Tenant: "acme", Role: identity.RoleUser},
	}}}, nil)
	mustTenant(t, s, "acme")
	verified := func(c *x509.Certificate) identity.Credentials {
		return identity.Credentials{Header: http.Header{}, TLS: &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{c}}}}
	}
	p, err := s.Authenticate(ctx, verified(cert(t, "batch-job")))
	if err != nil || p.Tenant != "acme" || p.Source != "mtls" || p.Subject != "batch-job" {
		t.Fatalf("mapped cert: %+v, %v", p, err)
	}
	if _, err := s.Authenticate(ctx, verified(cert(t, "stranger"))); !errors.Is(err, identity.ErrInvalidCredentials) {
		t.Fatalf("unmapped cert: %v", err)
	}
	// Presented but unverified certificates are ignored.
	unverified := identity.Credentials{Header: http.Header{}, TLS: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert(t, "batch-job")}}}
	if _, err := s.Authenticate(ctx, unverified); !errors.Is(err, identity.ErrNoCredentials) {
		t.Fatalf("unverified cert: %v", err)
	}

	s2 := newSvc(t, db, identity.Config{MTLS: identity.MTLSConfig{From: "san_dns", Identities: map[string]identity.MTLSIdentity{
		"svc.acme.internal": {Tenant: "acme", Role: identity.RoleViewer},
	}}}, nil)
	if p, err := s2.Authenticate(ctx, verified(cert(t, "ignored", "other", "svc.acme.internal"))); err != nil || p.Role != identity.RoleViewer {
		t.Fatalf("SAN mapping: %+v, %v", p, err)
	}
}
