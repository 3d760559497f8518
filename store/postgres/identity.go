package postgres

import (
	"context"
	"errors"
	"fmt"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart-ai/rampart/identity"
)

var _ identity.Store = (*DB)(nil)

// CreateTenant stores a new tenant (identity.ErrConflict if it exists).
func (db *DB) CreateTenant(ctx context.Context, t identity.Tenant) error {
	m, l, err := sqlcodec.EncodeJSON(t.Models, t.Limits)
	if err != nil {
		return fmt.Errorf("postgres: tenant: %w", err)
	}
	// A new tenant can turn negative cache entries into valid ones: bump.
	return db.inTx(ctx, true, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, models, policy, limits, created_at)
			VALUES ($1, $2, $3, $4, $5)`, t.ID, m, t.Policy, l, sqlcodec.Nanos(t.CreatedAt))
		if isUnique(err) {
			return identity.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("postgres: tenant: insert: %w", err)
		}
		return nil
	})
}

const tenantColumns = `id, models, policy, limits, created_at`

func scanTenant(sc pgx.Row) (identity.Tenant, error) {
	var t identity.Tenant
	var m, l string
	var created int64
	if err := sc.Scan(&t.ID, &m, &t.Policy, &l, &created); err != nil {
		return t, err
	}
	t.CreatedAt = sqlcodec.FromNanos(created)
	if err := sqlcodec.DecodeJSON(m, l, &t.Models, &t.Limits); err != nil {
		return t, fmt.Errorf("postgres: tenant %s: %w", t.ID, err)
	}
	return t, nil
}

// GetTenant returns one tenant (identity.ErrNotFound if none).
func (db *DB) GetTenant(ctx context.Context, id string) (identity.Tenant, error) {
	t, err := scanTenant(db.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, identity.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("postgres: tenant: %w", err)
	}
	return t, nil
}

// ListTenants returns all tenants ordered by id.
func (db *DB) ListTenants(ctx context.Context) ([]identity.Tenant, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: tenants: %w", err)
	}
	defer rows.Close()
	var out []identity.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: tenants: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

const keyColumns = `id, name, tenant, role, prefix, key_hash, models, policy, limits,
	created_at, expires_at, last_used_at, revoked_at, replaced_by`

func scanKey(sc pgx.Row) (identity.Key, error) {
	var k identity.Key
	var m, l string
	var created, expires, used, revoked int64
	err := sc.Scan(&k.ID, &k.Name, &k.Tenant, &k.Role, &k.Prefix, &k.Hash, &m, &k.Policy, &l,
		&created, &expires, &used, &revoked, &k.ReplacedBy)
	if err != nil {
		return k, err
	}
	k.CreatedAt, k.ExpiresAt = sqlcodec.FromNanos(created), sqlcodec.FromNanos(expires)
	k.LastUsedAt, k.RevokedAt = sqlcodec.FromNanos(used), sqlcodec.FromNanos(revoked)
	if err := sqlcodec.DecodeJSON(m, l, &k.Models, &k.Limits); err != nil {
		return k, fmt.Errorf("postgres: key %s: %w", k.ID, err)
	}
	return k, nil
}

func insertKey(ctx context.Context, tx pgx.Tx, k identity.Key) error {
	m, l, err := sqlcodec.EncodeJSON(k.Models, k.Limits)
	if err != nil {
		return fmt.Errorf("postgres: key: %w", err)
	}
	if len(k.Hash) != 32 {
		return fmt.Errorf("postgres: key: hash must be 32 bytes")
	}
	_, err = tx.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		k.ID, k.Name, k.Tenant, k.Role, k.Prefix, k.Hash, m, k.Policy, l,
		sqlcodec.Nanos(k.CreatedAt), sqlcodec.Nanos(k.ExpiresAt), sqlcodec.Nanos(k.LastUsedAt), sqlcodec.Nanos(k.RevokedAt), k.ReplacedBy)
	if isUnique(err) {
		return identity.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("postgres: key: insert: %w", err)
	}
	return nil
}

// CreateKey stores a new key (identity.ErrConflict on a duplicate id or hash).
func (db *DB) CreateKey(ctx context.Context, k identity.Key) error {
	return db.inTx(ctx, false, func(tx pgx.Tx) error { return insertKey(ctx, tx, k) })
}

func (db *DB) oneKey(ctx context.Context, where string, arg any) (identity.Key, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE `+where+` = $1`, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, identity.ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("postgres: key: %w", err)
	}
	return k, nil
}

// KeyByHash returns the key with this hash (identity.ErrNotFound if none).
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (identity.Key, error) {
	return db.oneKey(ctx, "key_hash", hash)
}

// GetKey returns one key by id (identity.ErrNotFound if none).
func (db *DB) GetKey(ctx context.Context, id string) (identity.Key, error) {
	return db.oneKey(ctx, "id", id)
}

// ListKeys lists one tenant's keys ("" for all), oldest first.
func (db *DB) ListKeys(ctx context.Context, tenant string) ([]identity.Key, error) {
	q, args := `SELECT `+keyColumns+` FROM api_keys`, []any{}
	if tenant != "" {
		q, args = q+` WHERE tenant = $1`, append(args, tenant)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	defer rows.Close()
	var out []identity.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// CountKeys counts all keys, revoked ones included.
func (db *DB) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: keys: %w", err)
	}
	return n, nil
}

func affectedOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return fmt.Errorf("postgres: key: update: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return identity.ErrNotFound
	}
	return nil
}

// RevokeKey marks a key revoked (keeping the first revocation time).
func (db *DB) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return db.inTx(ctx, true, func(tx pgx.Tx) error {
		return affectedOne(tx.Exec(ctx, `UPDATE api_keys SET revoked_at =
			CASE WHEN revoked_at = 0 THEN $1 ELSE revoked_at END WHERE id = $2`, sqlcodec.Nanos(at), id))
	})
}

// ExpireKey sets a key's expiry.
func (db *DB) ExpireKey(ctx context.Context, id string, at time.Time) error {
	return db.inTx(ctx, true, func(tx pgx.Tx) error {
		return affectedOne(tx.Exec(ctx, `UPDATE api_keys SET expires_at = $1 WHERE id = $2`, sqlcodec.Nanos(at), id))
	})
}

// RotateKey stores next and shortens the old key's life to oldExpires.
func (db *DB) RotateKey(ctx context.Context, oldID string, oldExpires time.Time, next identity.Key) error {
	return db.inTx(ctx, true, func(tx pgx.Tx) error {
		err := affectedOne(tx.Exec(ctx, `UPDATE api_keys SET
			expires_at = CASE WHEN expires_at = 0 OR expires_at > $1 THEN $1 ELSE expires_at END,
			replaced_by = $2 WHERE id = $3`, sqlcodec.Nanos(oldExpires), next.ID, oldID))
		if err != nil {
			return err
		}
		return insertKey(ctx, tx, next)
	})
}

// TouchKeys records last-used times (never moving one backwards).
func (db *DB) TouchKeys(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return db.inTx(ctx, false, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for id, at := range used {
			b.Queue(`UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1`, sqlcodec.Nanos(at), id)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: key: touch: %w", err)
		}
		return nil
	})
}

// IdentityGeneration returns the identity generation counter.
func (db *DB) IdentityGeneration(ctx context.Context) (int64, error) {
	var g int64
	if err := db.pool.QueryRow(ctx, `SELECT generation FROM identity_generation WHERE id = 1`).Scan(&g); err != nil {
		return 0, fmt.Errorf("postgres: identity generation: %w", err)
	}
	return g, nil
}
