package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rampart-ai/rampart/identity"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
)

var _ identity.Store = (*Store)(nil)

// identitySQL holds the tenant and key statements in the backend's dialect.
type identitySQL struct {
	insertTenant, getTenant, listTenants                 string
	insertKey, keyByHash, keyByID, listKeys, tenantKeys  string
	countKeys, revokeKey, expireKey, rotateKey, touchKey string
	keyLimits, tenantLimits                              string
	generation                                           string
}

const (
	tenantColumns = `id, models, policy, limits, created_at`
	keyColumns    = `id, name, tenant, role, prefix, key_hash, models, policy, limits,
	created_at, expires_at, last_used_at, revoked_at, replaced_by`
)

func newIdentitySQL(d Dialect) identitySQL {
	return identitySQL{
		insertTenant: d.sql(`INSERT INTO tenants (` + tenantColumns + `) VALUES (?, ?, ?, ?, ?)`),
		getTenant:    d.sql(`SELECT ` + tenantColumns + ` FROM tenants WHERE id = ?`),
		listTenants:  `SELECT ` + tenantColumns + ` FROM tenants ORDER BY id`,
		insertKey:    d.sql(`INSERT INTO api_keys (` + keyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		keyByHash:    d.sql(`SELECT ` + keyColumns + ` FROM api_keys WHERE key_hash = ?`),
		keyByID:      d.sql(`SELECT ` + keyColumns + ` FROM api_keys WHERE id = ?`),
		listKeys:     `SELECT ` + keyColumns + ` FROM api_keys ORDER BY created_at, id`,
		tenantKeys:   d.sql(`SELECT ` + keyColumns + ` FROM api_keys WHERE tenant = ? ORDER BY created_at, id`),
		countKeys:    `SELECT COUNT(*) FROM api_keys`,
		revokeKey:    d.sql(`UPDATE api_keys SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`),
		expireKey:    d.sql(`UPDATE api_keys SET expires_at = ? WHERE id = ?`),
		keyLimits:    d.sql(`UPDATE api_keys SET limits = ? WHERE id = ?`),
		tenantLimits: d.sql(`UPDATE tenants SET limits = ? WHERE id = ?`),
		rotateKey: d.sql(`UPDATE api_keys SET
			expires_at = CASE WHEN expires_at = 0 OR expires_at > ?1 THEN ?1 ELSE expires_at END,
			replaced_by = ?2 WHERE id = ?3`),
		touchKey:   d.sql(`UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND last_used_at < ?1`),
		generation: `SELECT generation FROM identity_generation WHERE id = 1`,
	}
}

// CreateTenant stores a new tenant (identity.ErrConflict if it exists).
func (s *Store) CreateTenant(ctx context.Context, t identity.Tenant) error {
	m, l, err := sqlcodec.EncodeJSON(t.Models, t.Limits)
	if err != nil {
		return s.errorf("tenant: %w", err)
	}
	// A new tenant can turn negative cache entries (JWT/mTLS identities
	// naming it) into valid ones: bump.
	return s.inTx(ctx, true, func(tx Tx) error {
		_, err := tx.Exec(ctx, s.id.insertTenant, t.ID, m, t.Policy, l, sqlcodec.Nanos(t.CreatedAt))
		if s.d.IsUnique(err) {
			return identity.ErrConflict
		}
		if err != nil {
			return s.errorf("tenant: insert: %w", err)
		}
		return nil
	})
}

func (s *Store) scanTenant(r Row) (identity.Tenant, error) {
	var t identity.Tenant
	var m, l string
	var created int64
	if err := r.Scan(&t.ID, &m, &t.Policy, &l, &created); err != nil {
		return t, err
	}
	t.CreatedAt = sqlcodec.FromNanos(created)
	if err := sqlcodec.DecodeJSON(m, l, &t.Models, &t.Limits); err != nil {
		return t, s.errorf("tenant %s: %w", t.ID, err)
	}
	return t, nil
}

// GetTenant returns one tenant (identity.ErrNotFound if none).
func (s *Store) GetTenant(ctx context.Context, id string) (identity.Tenant, error) {
	t, err := s.scanTenant(s.read.QueryRow(ctx, s.id.getTenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, identity.ErrNotFound
	}
	if err != nil {
		return t, s.errorf("tenant: %w", err)
	}
	return t, nil
}

// ListTenants returns all tenants ordered by id.
func (s *Store) ListTenants(ctx context.Context) ([]identity.Tenant, error) {
	rows, err := s.read.Query(ctx, s.id.listTenants)
	out, err := collect(rows, err, s.scanTenant)
	if err != nil {
		return nil, s.errorf("tenants: %w", err)
	}
	return out, nil
}

func (s *Store) scanKey(r Row) (identity.Key, error) {
	var k identity.Key
	var m, l string
	var created, expires, used, revoked int64
	err := r.Scan(&k.ID, &k.Name, &k.Tenant, &k.Role, &k.Prefix, &k.Hash, &m, &k.Policy, &l,
		&created, &expires, &used, &revoked, &k.ReplacedBy)
	if err != nil {
		return k, err
	}
	k.CreatedAt, k.ExpiresAt = sqlcodec.FromNanos(created), sqlcodec.FromNanos(expires)
	k.LastUsedAt, k.RevokedAt = sqlcodec.FromNanos(used), sqlcodec.FromNanos(revoked)
	if err := sqlcodec.DecodeJSON(m, l, &k.Models, &k.Limits); err != nil {
		return k, s.errorf("key %s: %w", k.ID, err)
	}
	return k, nil
}

func (s *Store) insertKey(ctx context.Context, tx Tx, k identity.Key) error {
	m, l, err := sqlcodec.EncodeJSON(k.Models, k.Limits)
	if err != nil {
		return s.errorf("key: %w", err)
	}
	if len(k.Hash) != 32 {
		return s.errorf("key: hash must be 32 bytes")
	}
	_, err = tx.Exec(ctx, s.id.insertKey, k.ID, k.Name, k.Tenant, k.Role, k.Prefix, k.Hash, m, k.Policy, l,
		sqlcodec.Nanos(k.CreatedAt), sqlcodec.Nanos(k.ExpiresAt), sqlcodec.Nanos(k.LastUsedAt), sqlcodec.Nanos(k.RevokedAt), k.ReplacedBy)
	if s.d.IsUnique(err) {
		return identity.ErrConflict
	}
	if err != nil {
		return s.errorf("key: insert: %w", err)
	}
	return nil
}

// CreateKey stores a new key (identity.ErrConflict on a duplicate id or hash).
func (s *Store) CreateKey(ctx context.Context, k identity.Key) error {
	return s.inTx(ctx, false, func(tx Tx) error { return s.insertKey(ctx, tx, k) })
}

// oneKey returns the key that query q finds for arg (identity.ErrNotFound
// if none).
func (s *Store) oneKey(ctx context.Context, q string, arg any) (identity.Key, error) {
	k, err := s.scanKey(s.read.QueryRow(ctx, q, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return k, identity.ErrNotFound
	}
	if err != nil {
		return k, s.errorf("key: %w", err)
	}
	return k, nil
}

// KeyByHash returns the key with this hash (identity.ErrNotFound if none).
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (identity.Key, error) {
	return s.oneKey(ctx, s.id.keyByHash, hash)
}

// GetKey returns one key by id (identity.ErrNotFound if none).
func (s *Store) GetKey(ctx context.Context, id string) (identity.Key, error) {
	return s.oneKey(ctx, s.id.keyByID, id)
}

// ListKeys lists one tenant's keys ("" for all), oldest first.
func (s *Store) ListKeys(ctx context.Context, tenant string) ([]identity.Key, error) {
	q, args := s.id.listKeys, []any{}
	if tenant != "" {
		q, args = s.id.tenantKeys, append(args, tenant)
	}
	rows, err := s.read.Query(ctx, q, args...)
	out, err := collect(rows, err, s.scanKey)
	if err != nil {
		return nil, s.errorf("keys: %w", err)
	}
	return out, nil
}

// CountKeys counts all keys, revoked ones included.
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRow(ctx, s.id.countKeys).Scan(&n); err != nil {
		return 0, s.errorf("keys: %w", err)
	}
	return n, nil
}

// updateKey runs an update of one key (identity.ErrNotFound if none).
func (s *Store) updateKey(ctx context.Context, tx Tx, q string, args ...any) error {
	n, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return s.errorf("key: update: %w", err)
	}
	if n == 0 {
		return identity.ErrNotFound
	}
	return nil
}

// RevokeKey marks a key revoked (keeping the first revocation time).
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return s.inTx(ctx, true, func(tx Tx) error {
		return s.updateKey(ctx, tx, s.id.revokeKey, sqlcodec.Nanos(at), id)
	})
}

// ExpireKey sets a key's expiry.
func (s *Store) ExpireKey(ctx context.Context, id string, at time.Time) error {
	return s.inTx(ctx, true, func(tx Tx) error {
		return s.updateKey(ctx, tx, s.id.expireKey, sqlcodec.Nanos(at), id)
	})
}

// SetKeyLimits replaces a key's limits (identity.ErrNotFound if none).
func (s *Store) SetKeyLimits(ctx context.Context, id string, limits map[string]int64) error {
	_, l, err := sqlcodec.EncodeJSON(nil, limits)
	if err != nil {
		return s.errorf("key: %w", err)
	}
	return s.inTx(ctx, true, func(tx Tx) error {
		return s.updateKey(ctx, tx, s.id.keyLimits, l, id)
	})
}

// SetTenantLimits replaces a tenant's limits (identity.ErrNotFound if none).
func (s *Store) SetTenantLimits(ctx context.Context, id string, limits map[string]int64) error {
	_, l, err := sqlcodec.EncodeJSON(nil, limits)
	if err != nil {
		return s.errorf("tenant: %w", err)
	}
	return s.inTx(ctx, true, func(tx Tx) error {
		n, err := tx.Exec(ctx, s.id.tenantLimits, l, id)
		if err != nil {
			return s.errorf("tenant: update: %w", err)
		}
		if n == 0 {
			return identity.ErrNotFound
		}
		return nil
	})
}

// RotateKey stores next and shortens the old key's life to oldExpires.
func (s *Store) RotateKey(ctx context.Context, oldID string, oldExpires time.Time, next identity.Key) error {
	return s.inTx(ctx, true, func(tx Tx) error {
		if err := s.updateKey(ctx, tx, s.id.rotateKey, sqlcodec.Nanos(oldExpires), next.ID, oldID); err != nil {
			return err
		}
		return s.insertKey(ctx, tx, next)
	})
}

// TouchKeys records last-used times (never moving one backwards).
func (s *Store) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	args := make([][]any, 0, len(used))
	for id, at := range used {
		args = append(args, []any{sqlcodec.Nanos(at), id})
	}
	return s.inTx(ctx, false, func(tx Tx) error {
		if err := tx.ExecMany(ctx, s.id.touchKey, args); err != nil {
			return s.errorf("key: touch: %w", err)
		}
		return nil
	})
}

// IdentityGeneration returns the identity generation counter.
func (s *Store) IdentityGeneration(ctx context.Context) (int64, error) {
	var g int64
	if err := s.read.QueryRow(ctx, s.id.generation).Scan(&g); err != nil {
		return 0, s.errorf("identity generation: %w", err)
	}
	return g, nil
}
