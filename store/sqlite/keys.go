package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
	"time"

	"github.com/rampart-ai/rampart/identity"
)

const keyColumns = `id, name, tenant, role, prefix, key_hash, models, policy, limits,
	created_at, expires_at, last_used_at, revoked_at, replaced_by`

func scanKey(sc interface{ Scan(...any) error }) (identity.Key, error) {
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
		return k, fmt.Errorf("sqlite: key %s: %w", k.ID, err)
	}
	return k, nil
}

func insertKey(ctx context.Context, tx *sql.Tx, k identity.Key) error {
	m, l, err := sqlcodec.EncodeJSON(k.Models, k.Limits)
	if err != nil {
		return fmt.Errorf("sqlite: key: %w", err)
	}
	if len(k.Hash) != 32 {
		return fmt.Errorf("sqlite: key: hash must be 32 bytes")
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Tenant, k.Role, k.Prefix, k.Hash, m, k.Policy, l,
		sqlcodec.Nanos(k.CreatedAt), sqlcodec.Nanos(k.ExpiresAt), sqlcodec.Nanos(k.LastUsedAt), sqlcodec.Nanos(k.RevokedAt), k.ReplacedBy)
	if isUnique(err) {
		return identity.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlite: key: insert: %w", err)
	}
	return nil
}

// inTx runs fn in a write transaction that also bumps the identity
// generation when bump is set.
func (db *DB) inTx(ctx context.Context, bump bool, fn func(tx *sql.Tx) error) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if bump {
		if _, err := tx.ExecContext(ctx, bumpGeneration); err != nil {
			return fmt.Errorf("sqlite: identity generation: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// CreateKey stores a new key (identity.ErrConflict on a duplicate id or hash).
func (db *DB) CreateKey(ctx context.Context, k identity.Key) error {
	return db.inTx(ctx, false, func(tx *sql.Tx) error { return insertKey(ctx, tx, k) })
}

// KeyByHash returns the key with this hash (identity.ErrNotFound if none).
func (db *DB) KeyByHash(ctx context.Context, hash []byte) (identity.Key, error) {
	k, err := scanKey(db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE key_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return k, identity.ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: key: %w", err)
	}
	return k, nil
}

// GetKey returns one key by id (identity.ErrNotFound if none).
func (db *DB) GetKey(ctx context.Context, id string) (identity.Key, error) {
	k, err := scanKey(db.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, identity.ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("sqlite: key: %w", err)
	}
	return k, nil
}

// ListKeys lists one tenant's keys ("" for all), oldest first.
func (db *DB) ListKeys(ctx context.Context, tenant string) ([]identity.Key, error) {
	q, args := `SELECT `+keyColumns+` FROM api_keys`, []any{}
	if tenant != "" {
		q, args = q+` WHERE tenant = ?`, append(args, tenant)
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var out []identity.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// CountKeys counts all keys, revoked ones included.
func (db *DB) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: keys: %w", err)
	}
	return n, nil
}

func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("sqlite: key: update: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: key: update: %w", err)
	}
	if n == 0 {
		return identity.ErrNotFound
	}
	return nil
}

// RevokeKey marks a key revoked (keeping the first revocation time).
func (db *DB) RevokeKey(ctx context.Context, id string, at time.Time) error {
	return db.inTx(ctx, true, func(tx *sql.Tx) error {
		return affectedOne(tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at =
			CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`, sqlcodec.Nanos(at), id))
	})
}

// ExpireKey sets a key's expiry.
func (db *DB) ExpireKey(ctx context.Context, id string, at time.Time) error {
	return db.inTx(ctx, true, func(tx *sql.Tx) error {
		return affectedOne(tx.ExecContext(ctx, `UPDATE api_keys SET expires_at = ? WHERE id = ?`, sqlcodec.Nanos(at), id))
	})
}

// RotateKey stores next and shortens the old key's life to oldExpires.
func (db *DB) RotateKey(ctx context.Context, oldID string, oldExpires time.Time, next identity.Key) error {
	return db.inTx(ctx, true, func(tx *sql.Tx) error {
		err := affectedOne(tx.ExecContext(ctx, `UPDATE api_keys SET
			expires_at = CASE WHEN expires_at = 0 OR expires_at > ? THEN ? ELSE expires_at END,
			replaced_by = ? WHERE id = ?`, sqlcodec.Nanos(oldExpires), sqlcodec.Nanos(oldExpires), next.ID, oldID))
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
	return db.inTx(ctx, false, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?`)
		if err != nil {
			return fmt.Errorf("sqlite: key: touch: %w", err)
		}
		defer stmt.Close()
		for id, at := range used {
			if _, err := stmt.ExecContext(ctx, sqlcodec.Nanos(at), id, sqlcodec.Nanos(at)); err != nil {
				return fmt.Errorf("sqlite: key: touch: %w", err)
			}
		}
		return nil
	})
}

// IdentityGeneration returns the identity generation counter.
func (db *DB) IdentityGeneration(ctx context.Context) (int64, error) {
	var g int64
	if err := db.r.QueryRowContext(ctx, `SELECT generation FROM identity_generation WHERE id = 1`).Scan(&g); err != nil {
		return 0, fmt.Errorf("sqlite: identity generation: %w", err)
	}
	return g, nil
}
