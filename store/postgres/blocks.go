package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
)

var _ store.BlockStore = (*DB)(nil)

// AddBlock validates and stores b, bumping the blocks version.
func (db *DB) AddBlock(ctx context.Context, b store.Block) (store.Block, error) {
	now := time.Now()
	b, err := store.NormalizeBlock(b, now)
	if err != nil {
		return store.Block{}, err
	}
	if b.ID == "" {
		b.ID = store.NewBlockID()
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now.UTC()
	}
	err = db.blocksTx(ctx, func(tx pgx.Tx) (bool, error) {
		_, err := tx.Exec(ctx, `INSERT INTO blocks (id, kind, value, tenant, action, rpm, reason, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, b.ID, b.Kind, b.Value, b.Tenant, b.Action, b.RPM, b.Reason,
			b.CreatedBy, sqlcodec.Nanos(b.CreatedAt), sqlcodec.Nanos(b.ExpiresAt))
		return err == nil, err
	})
	if err != nil {
		return store.Block{}, fmt.Errorf("postgres: add block: %w", err)
	}
	return b, nil
}

// RemoveBlock deletes one block (store.ErrBlockNotFound if none).
func (db *DB) RemoveBlock(ctx context.Context, id string) error {
	found := false
	err := db.blocksTx(ctx, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM blocks WHERE id = $1`, id)
		found = err == nil && tag.RowsAffected() > 0
		return found, err
	})
	if err != nil {
		return fmt.Errorf("postgres: remove block: %w", err)
	}
	if !found {
		return store.ErrBlockNotFound
	}
	return nil
}

// ListBlocks returns the blocks active at now.
func (db *DB) ListBlocks(ctx context.Context, now time.Time) ([]store.Block, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, kind, value, tenant, action, rpm, reason, created_by, created_at, expires_at
		FROM blocks WHERE expires_at > $1 ORDER BY created_at, id LIMIT $2`, now.UnixNano(), store.MaxActiveBlocks)
	if err != nil {
		return nil, fmt.Errorf("postgres: list blocks: %w", err)
	}
	defer rows.Close()
	var out []store.Block
	for rows.Next() {
		var b store.Block
		var created, expires int64
		if err := rows.Scan(&b.ID, &b.Kind, &b.Value, &b.Tenant, &b.Action, &b.RPM, &b.Reason, &b.CreatedBy, &created, &expires); err != nil {
			return nil, fmt.Errorf("postgres: list blocks: %w", err)
		}
		b.CreatedAt, b.ExpiresAt = sqlcodec.FromNanos(created), sqlcodec.FromNanos(expires)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list blocks: %w", err)
	}
	return out, nil
}

// BlocksVersion returns the blocks version counter.
func (db *DB) BlocksVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.pool.QueryRow(ctx, `SELECT version FROM blocks_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: blocks version: %w", err)
	}
	return v, nil
}

// PurgeExpiredBlocks deletes blocks that expired at or before now.
func (db *DB) PurgeExpiredBlocks(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.blocksTx(ctx, func(tx pgx.Tx) (bool, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM blocks WHERE expires_at <= $1`, now.UnixNano())
		if err != nil {
			return false, err
		}
		n = tag.RowsAffected()
		return n > 0, nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: purge blocks: %w", err)
	}
	return n, nil
}

// blocksTx runs fn in a transaction and bumps the blocks version when fn
// reports a change.
func (db *DB) blocksTx(ctx context.Context, fn func(tx pgx.Tx) (bool, error)) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	changed, err := fn(tx)
	if err != nil {
		return err
	}
	if changed {
		if _, err := tx.Exec(ctx, `UPDATE blocks_version SET version = version + 1 WHERE id = 1`); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
