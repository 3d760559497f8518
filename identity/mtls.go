package identity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// mtlsMapper maps a verified client certificate to an identity.
type mtlsMapper struct {
	from string
	ids  map[string]MTLSIdentity
}

func newMTLSMapper(c MTLSConfig) *mtlsMapper {
	return &mtlsMapper{from: c.From, ids: c.Identities}
}

func (m *mtlsMapper) enabled() bool { return len(m.ids) > 0 }

// names returns the candidate names of the leaf certificate.
func (m *mtlsMapper) names(cert *x509.Certificate) []string {
	switch m.from {
	case "san_dns":
		return cert.DNSNames
	case "san_email":
		return cert.EmailAddresses
	case "san_uri":
		out := make([]string, 0, len(cert.URIs))
		for _, u := range cert.URIs {
			out = append(out, u.String())
		}
		return out
	}
	if cert.Subject.CommonName == "" {
		return nil
	}
	return []string{cert.Subject.CommonName}
}

func (s *Service) authMTLS(ctx context.Context, cs *tls.ConnectionState, now time.Time) (*Principal, error) {
	// Only chains the TLS stack verified count; the leaf is the first
	// certificate of the first verified chain.
	chain := cs.VerifiedChains[0]
	if len(chain) == 0 {
		return nil, ErrNoCredentials
	}
	for _, name := range s.mtls.names(chain[0]) {
		if id, ok := s.mtls.ids[name]; ok {
			return s.principalFor(ctx, "mtls", id.Tenant, id.Role, name, now)
		}
	}
	return nil, fmt.Errorf("%w: client certificate not mapped", ErrInvalidCredentials)
}
