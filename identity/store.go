package identity

import (
	"context"
	"errors"
	"time"
)

// Errors the identity store returns.
var (
	// ErrNotFound: no such key or tenant.
	ErrNotFound = errors.New("identity: not found")
	// ErrConflict: a tenant or key with that id already exists.
	ErrConflict = errors.New("identity: already exists")
)

// Tenant is one customer/team. Its settings are defaults for its keys.
type Tenant struct {
	// ID is the tenant's name (unique, [a-z0-9._-], 1–64 chars).
	ID string `json:"id"`
	// Models are glob patterns (path.Match) of the models the tenant may
	// use; empty means any.
	Models []string `json:"models,omitempty"`
	// Policy names the policy later layers apply (engine.Identity.Policy).
	Policy string `json:"policy,omitempty"`
	// Limits are operator-set limits read by later layers.
	Limits    map[string]int64 `json:"limits,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
}

// Key is the stored metadata of one API key. The key itself is never
// stored: only Hash = HMAC-SHA256(pepper, key) and a short display Prefix.
type Key struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Tenant string `json:"tenant"` // tenant id, or "*" for a global key
	Role   string `json:"role"`
	// Prefix is the first characters of the key, for display ("rk_AbC12").
	Prefix string `json:"prefix"`
	// Hash is HMAC-SHA256(pepper, key). Never serialised.
	Hash []byte `json:"-"`
	// Models narrows the tenant's model allow-list for this key (globs).
	Models []string `json:"models,omitempty"`
	// Policy overrides the tenant's policy when set.
	Policy string `json:"policy,omitempty"`
	// Limits override the tenant's limits per name.
	Limits    map[string]int64 `json:"limits,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	// ExpiresAt is zero when the key never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// LastUsedAt is updated asynchronously (coalesced), zero if never used.
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	// RevokedAt is zero while the key is not revoked.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// ReplacedBy is the id of the key that replaced this one by rotation.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Usable reports whether the key authenticates at time now.
func (k *Key) Usable(now time.Time) bool {
	if !k.RevokedAt.IsZero() {
		return false
	}
	if !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		return false
	}
	return true
}

// Store is the persistence the identity code needs. store/sqlite and
// store/postgres implement it. Every method that changes whether a key or
// tenant authenticates (revoke, expiry change, rotation, tenant change)
// increments the store-wide identity generation in the same transaction,
// which every replica polls to drop its cache.
type Store interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)

	CreateKey(ctx context.Context, k Key) error
	// KeyByHash returns the key whose Hash equals hash (ErrNotFound if none).
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
	GetKey(ctx context.Context, id string) (Key, error)
	// ListKeys lists keys of one tenant, or all keys when tenant is "".
	ListKeys(ctx context.Context, tenant string) ([]Key, error)
	// CountKeys counts all keys (revoked included).
	CountKeys(ctx context.Context) (int, error)
	// RevokeKey marks the key revoked at at (ErrNotFound if no such key;
	// revoking a revoked key keeps the first time).
	RevokeKey(ctx context.Context, id string, at time.Time) error
	// ExpireKey sets the key's expiry to at (ErrNotFound if no such key).
	ExpireKey(ctx context.Context, id string, at time.Time) error
	// SetKeyLimits replaces a key's limits (ErrNotFound if no such key).
	SetKeyLimits(ctx context.Context, id string, limits map[string]int64) error
	// SetTenantLimits replaces a tenant's limits (ErrNotFound if none).
	SetTenantLimits(ctx context.Context, id string, limits map[string]int64) error
	// RotateKey stores next and sets the old key's expiry to
	// min(current expiry, oldExpires) and its ReplacedBy, atomically.
	RotateKey(ctx context.Context, oldID string, oldExpires time.Time, next Key) error
	// TouchKeys records last-used times (a batch; unknown ids are ignored).
	TouchKeys(ctx context.Context, used map[string]time.Time) error
	// IdentityGeneration returns the current identity generation.
	IdentityGeneration(ctx context.Context) (int64, error)
}
