package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"
	"time"
)

// KeySpec describes a key to create.
type KeySpec struct {
	Name   string
	Tenant string
	Role   string
	Models []string
	Policy string
	Limits map[string]int64
	// ExpiresAt is zero for a key that never expires.
	ExpiresAt time.Time
}

// ErrInvalid wraps validation failures of management requests.
var ErrInvalid = errors.New("identity: invalid request")

var tenantIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidTenantID reports whether id is a valid tenant id (1–64 characters
// of [a-z0-9._-], starting with a letter or digit). "*" is not a tenant.
func ValidTenantID(id string) bool { return tenantIDRe.MatchString(id) }

func validGlobs(gs []string) error {
	if len(gs) > 256 {
		return fmt.Errorf("%w: too many model patterns", ErrInvalid)
	}
	for _, g := range gs {
		if g == "" || len(g) > 256 {
			return fmt.Errorf("%w: empty or overlong model pattern", ErrInvalid)
		}
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("%w: model pattern %q: %v", ErrInvalid, g, err)
		}
	}
	return nil
}

func newID(prefix string) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

// CreateTenant creates a tenant.
func (s *Service) CreateTenant(ctx context.Context, t Tenant) (Tenant, error) {
	if !ValidTenantID(t.ID) {
		return Tenant{}, fmt.Errorf("%w: tenant id must be 1-64 characters of a-z, 0-9, '.', '_', '-'", ErrInvalid)
	}
	if err := validGlobs(t.Models); err != nil {
		return Tenant{}, err
	}
	if len(t.Policy) > 256 {
		return Tenant{}, fmt.Errorf("%w: policy name too long", ErrInvalid)
	}
	t.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := s.store.CreateTenant(ctx, t); err != nil {
		return Tenant{}, err
	}
	return t, nil
}

// CreateKey creates a key and returns it in plain text (shown once; only
// its hash is stored) with its metadata.
func (s *Service) CreateKey(ctx context.Context, spec KeySpec) (string, Key, error) {
	if spec.Name == "" || len(spec.Name) > 128 {
		return "", Key{}, fmt.Errorf("%w: name must be 1-128 characters", ErrInvalid)
	}
	if !ValidRole(spec.Role) {
		return "", Key{}, fmt.Errorf("%w: unknown role %q", ErrInvalid, spec.Role)
	}
	if err := validGlobs(spec.Models); err != nil {
		return "", Key{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if !spec.ExpiresAt.IsZero() && !spec.ExpiresAt.After(now) {
		return "", Key{}, fmt.Errorf("%w: expiry is in the past", ErrInvalid)
	}
	if spec.Tenant != GlobalTenant {
		if !ValidTenantID(spec.Tenant) {
			return "", Key{}, fmt.Errorf("%w: invalid tenant id", ErrInvalid)
		}
		if _, err := s.store.GetTenant(ctx, spec.Tenant); err != nil {
			if errors.Is(err, ErrNotFound) {
				return "", Key{}, fmt.Errorf("%w: tenant %q does not exist", ErrInvalid, spec.Tenant)
			}
			return "", Key{}, err
		}
	}
	plain, k, err := s.mint(spec, now)
	if err != nil {
		return "", Key{}, err
	}
	if err := s.store.CreateKey(ctx, k); err != nil {
		return "", Key{}, err
	}
	return plain, k, nil
}

func (s *Service) mint(spec KeySpec, now time.Time) (string, Key, error) {
	plain, err := NewKey()
	if err != nil {
		return "", Key{}, err
	}
	id, err := newID("key_")
	if err != nil {
		return "", Key{}, err
	}
	k := Key{
		ID: id, Name: spec.Name, Tenant: spec.Tenant, Role: spec.Role,
		Prefix: DisplayPrefix(plain), Hash: s.hasher.Hash(plain),
		Models: spec.Models, Policy: spec.Policy, Limits: spec.Limits,
		CreatedAt: now, ExpiresAt: spec.ExpiresAt.UTC().Truncate(time.Millisecond),
	}
	if spec.ExpiresAt.IsZero() {
		k.ExpiresAt = time.Time{}
	}
	return plain, k, nil
}

// RevokeKey revokes a key. On this replica it is effective at once; other
// replicas sharing the store notice within GenerationPoll (always within
// CacheTTL).
func (s *Service) RevokeKey(ctx context.Context, id string) error {
	if err := s.store.RevokeKey(ctx, id, s.now().UTC().Truncate(time.Millisecond)); err != nil {
		return err
	}
	s.Invalidate(ctx)
	return nil
}

// SetKeyLimits replaces a key's limits; effective like RevokeKey.
func (s *Service) SetKeyLimits(ctx context.Context, id string, limits map[string]int64) error {
	if err := s.store.SetKeyLimits(ctx, id, limits); err != nil {
		return err
	}
	s.Invalidate(ctx)
	return nil
}

// SetTenantLimits replaces a tenant's limits; effective like RevokeKey.
func (s *Service) SetTenantLimits(ctx context.Context, id string, limits map[string]int64) error {
	if err := s.store.SetTenantLimits(ctx, id, limits); err != nil {
		return err
	}
	s.Invalidate(ctx)
	return nil
}

// ExpireKey sets a key's expiry (now or later); effective like RevokeKey.
func (s *Service) ExpireKey(ctx context.Context, id string, at time.Time) error {
	if err := s.store.ExpireKey(ctx, id, at.UTC().Truncate(time.Millisecond)); err != nil {
		return err
	}
	s.Invalidate(ctx)
	return nil
}

// RotateKey creates a new key with the old key's name, tenant, role and
// settings (and expiry), and lets the old key work for grace more (0: it
// stops at once). The new key is returned in plain text (shown once).
func (s *Service) RotateKey(ctx context.Context, id string, grace time.Duration) (string, Key, error) {
	if grace < 0 {
		return "", Key{}, fmt.Errorf("%w: negative grace period", ErrInvalid)
	}
	old, err := s.store.GetKey(ctx, id)
	if err != nil {
		return "", Key{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if !old.Usable(now) {
		return "", Key{}, fmt.Errorf("%w: key is revoked or expired", ErrInvalid)
	}
	plain, next, err := s.mint(KeySpec{
		Name: old.Name, Tenant: old.Tenant, Role: old.Role, Models: old.Models,
		Policy: old.Policy, Limits: old.Limits, ExpiresAt: old.ExpiresAt,
	}, now)
	if err != nil {
		return "", Key{}, err
	}
	oldExp := now.Add(grace)
	if !old.ExpiresAt.IsZero() && old.ExpiresAt.Before(oldExp) {
		oldExp = old.ExpiresAt
	}
	if err := s.store.RotateKey(ctx, id, oldExp, next); err != nil {
		return "", Key{}, err
	}
	s.Invalidate(ctx)
	return plain, next, nil
}
