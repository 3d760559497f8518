package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksKeySet is the OIDC provider's key set (an oidc.KeySet). Tokens are
// verified against the cached keys; when none verifies (a rotated-in key,
// or a made-up kid or signature), the set is fetched again, but at most
// once per every: an attacker's flood of unknown kids costs the provider
// one request per interval, not one per token. go-oidc's own RemoteKeySet
// fetches on every such token, which is why it is not used.
type jwksKeySet struct {
	url    string
	client *http.Client
	every  time.Duration

	mu      sync.Mutex // one fetch at a time
	keys    atomic.Pointer[[]jose.JSONWebKey]
	fetched time.Time
	fetches atomic.Int64
}

// maxJWKSBytes bounds the provider's key set document.
const maxJWKSBytes = 1 << 20

var jwksAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// VerifySignature implements oidc.KeySet.
func (k *jwksKeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, jwksAlgs)
	if err != nil {
		return nil, fmt.Errorf("oidc: malformed token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("oidc: token must carry exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	if p, ok := k.verify(jws, kid); ok {
		return p, nil
	}
	if !k.refetch(ctx) {
		return nil, errors.New("oidc: no known key verifies the token (key set refetch rate-limited)")
	}
	if p, ok := k.verify(jws, kid); ok {
		return p, nil
	}
	return nil, errors.New("oidc: no key of the provider verifies the token")
}

func (k *jwksKeySet) verify(jws *jose.JSONWebSignature, kid string) ([]byte, bool) {
	keys := k.keys.Load()
	if keys == nil {
		return nil, false
	}
	for i := range *keys {
		key := &(*keys)[i]
		if kid != "" && key.KeyID != kid {
			continue
		}
		if p, err := jws.Verify(key); err == nil {
			return p, true
		}
	}
	return nil, false
}

// refetch fetches the key set unless it was fetched (or tried) less than
// every ago; it reports whether a new set was loaded.
func (k *jwksKeySet) refetch(ctx context.Context) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.fetched.IsZero() && time.Since(k.fetched) < k.every {
		return false
	}
	k.fetched = time.Now()
	k.fetches.Add(1)
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, k.url, nil)
	if err != nil {
		return false
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return false
	}
	keys := set.Keys
	k.keys.Store(&keys)
	return true
}

// JWKSFetches is how often the OIDC key set was fetched (tests, metrics).
func (s *Service) JWKSFetches() int64 {
	if s.jwt.jwks == nil {
		return 0
	}
	return s.jwt.jwks.fetches.Load()
}
