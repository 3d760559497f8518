package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
)

var _ store.BlockStore = (*DB)(nil)

const bumpBlocksVersion = `UPDATE blocks_version SET version = version + 1 WHERE id = 1`

// AddBlock validates and stores b, bumping the blocks version.
func (db *DB) AddBlock(ctx context.Context, b store.Block) (store.Block, error) {
	w, err := db.writer()
	if err != nil {
		return store.Block{}, err
	}
	now := time.Now()
	b, err = store.NormalizeBlock(b, now)
	if err != nil {
		return store.Block{}, err
	}
	if b.ID == "" {
		b.ID = store.NewBlockID()
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now.UTC()
	}
	err = db.blocksTx(ctx, w, func(tx *sql.Tx) (bool, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO blocks (id, kind, value, tenant, action, rpm, reason, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.ID, b.Kind, b.Value, b.Tenant, b.Action, b.RPM, b.Reason, b.CreatedBy,
			sqlcodec.Nanos(b.CreatedAt), sqlcodec.Nanos(b.ExpiresAt))
		return err == nil, err
	})
	if err != nil {
		return store.Block{}, fmt.Errorf("sqlite: add block: %w", err)
	}
	return b, nil
}

// RemoveBlock deletes one block (store.ErrBlockNotFound if none).
func (db *DB) RemoveBlock(ctx context.Context, id string) error {
	w, err := db.writer()
	if err != nil {
		return err
	}
	found := false
	err = db.blocksTx(ctx, w, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM blocks WHERE id = ?`, id)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		found = n > 0
		return found, err
	})
	if err != nil {
		return fmt.Errorf("sqlite: remove block: %w", err)
	}
	if !found {
		return store.ErrBlockNotFound
	}
	return nil
}

// ListBlocks returns the blocks active at now.
func (db *DB) ListBlocks(ctx context.Context, now time.Time) ([]store.Block, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, kind, value, tenant, action, rpm, reason, created_by, created_at, expires_at
		FROM blocks WHERE expires_at > ? ORDER BY created_at, id LIMIT ?`, now.UnixNano(), store.MaxActiveBlocks)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list blocks: %w", err)
	}
	defer rows.Close()
	var out []store.Block
	for rows.Next() {
		var b store.Block
		var created, expires int64
		if err := rows.Scan(&b.ID, &b.Kind, &b.Value, &b.Tenant, &b.Action, &b.RPM, &b.Reason, &b.CreatedBy, &created, &expires); err != nil {
			return nil, fmt.Errorf("sqlite: list blocks: %w", err)
		}
		b.CreatedAt, b.ExpiresAt = sqlcodec.FromNanos(created), sqlcodec.FromNanos(expires)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list blocks: %w", err)
	}
	return out, nil
}

// BlocksVersion returns the blocks version counter.
func (db *DB) BlocksVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.r.QueryRowContext(ctx, `SELECT version FROM blocks_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: blocks version: %w", err)
	}
	return v, nil
}

// PurgeExpiredBlocks deletes blocks that expired at or before now.
func (db *DB) PurgeExpiredBlocks(ctx context.Context, now time.Time) (int64, error) {
	w, err := db.writer()
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.blocksTx(ctx, w, func(tx *sql.Tx) (bool, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM blocks WHERE expires_at <= ?`, now.UnixNano())
		if err != nil {
			return false, err
		}
		n, err = res.RowsAffected()
		return n > 0, err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: purge blocks: %w", err)
	}
	return n, nil
}

// blocksTx runs fn in a write transaction and bumps the blocks version when
// fn reports a change.
func (db *DB) blocksTx(ctx context.Context, w *sql.DB, fn func(tx *sql.Tx) (bool, error)) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	changed, err := fn(tx)
	if err != nil {
		return err
	}
	if changed {
		if _, err := tx.ExecContext(ctx, bumpBlocksVersion); err != nil {
			return err
		}
	}
	return tx.Commit()
}
