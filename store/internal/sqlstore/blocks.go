package sqlstore

import (
	"context"
	"time"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlcodec"
)

var _ store.BlockStore = (*Store)(nil)

// bumpBlocksVersion tells every replica to reload its blocks.
const bumpBlocksVersion = `UPDATE blocks_version SET version = version + 1 WHERE id = 1`

// blockSQL holds the block store's statements in the backend's dialect.
type blockSQL struct {
	insert, remove, list, version, purge string
}

func newBlockSQL(d Dialect) blockSQL {
	return blockSQL{
		insert: d.sql(`INSERT INTO blocks (id, kind, value, tenant, action, rpm, reason, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		remove: d.sql(`DELETE FROM blocks WHERE id = ?`),
		list: d.sql(`SELECT id, kind, value, tenant, action, rpm, reason, created_by, created_at, expires_at
			FROM blocks WHERE expires_at > ? ORDER BY created_at, id LIMIT ?`),
		version: `SELECT version FROM blocks_version WHERE id = 1`,
		purge:   d.sql(`DELETE FROM blocks WHERE expires_at <= ?`),
	}
}

// AddBlock validates and stores b, bumping the blocks version.
func (s *Store) AddBlock(ctx context.Context, b store.Block) (store.Block, error) {
	w, err := s.writer()
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
	err = blocksTx(ctx, w, func(tx Tx) (bool, error) {
		_, err := tx.Exec(ctx, s.blk.insert, b.ID, b.Kind, b.Value, b.Tenant, b.Action, b.RPM, b.Reason, b.CreatedBy,
			sqlcodec.Nanos(b.CreatedAt), sqlcodec.Nanos(b.ExpiresAt))
		return err == nil, err
	})
	if err != nil {
		return store.Block{}, s.errorf("add block: %w", err)
	}
	return b, nil
}

// RemoveBlock deletes one block (store.ErrBlockNotFound if none).
func (s *Store) RemoveBlock(ctx context.Context, id string) error {
	w, err := s.writer()
	if err != nil {
		return err
	}
	found := false
	err = blocksTx(ctx, w, func(tx Tx) (bool, error) {
		n, err := tx.Exec(ctx, s.blk.remove, id)
		found = err == nil && n > 0
		return found, err
	})
	if err != nil {
		return s.errorf("remove block: %w", err)
	}
	if !found {
		return store.ErrBlockNotFound
	}
	return nil
}

// ListBlocks returns the blocks active at now.
func (s *Store) ListBlocks(ctx context.Context, now time.Time) ([]store.Block, error) {
	rows, err := s.read.Query(ctx, s.blk.list, now.UnixNano(), store.MaxActiveBlocks)
	out, err := collect(rows, err, func(r Row) (store.Block, error) {
		var b store.Block
		var created, expires int64
		err := r.Scan(&b.ID, &b.Kind, &b.Value, &b.Tenant, &b.Action, &b.RPM, &b.Reason, &b.CreatedBy, &created, &expires)
		b.CreatedAt, b.ExpiresAt = sqlcodec.FromNanos(created), sqlcodec.FromNanos(expires)
		return b, err
	})
	if err != nil {
		return nil, s.errorf("list blocks: %w", err)
	}
	return out, nil
}

// BlocksVersion returns the blocks version counter.
func (s *Store) BlocksVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.read.QueryRow(ctx, s.blk.version).Scan(&v); err != nil {
		return 0, s.errorf("blocks version: %w", err)
	}
	return v, nil
}

// PurgeExpiredBlocks deletes blocks that expired at or before now.
func (s *Store) PurgeExpiredBlocks(ctx context.Context, now time.Time) (int64, error) {
	w, err := s.writer()
	if err != nil {
		return 0, err
	}
	var n int64
	err = blocksTx(ctx, w, func(tx Tx) (bool, error) {
		var err error
		n, err = tx.Exec(ctx, s.blk.purge, now.UnixNano())
		return n > 0, err
	})
	if err != nil {
		return 0, s.errorf("purge blocks: %w", err)
	}
	return n, nil
}

// blocksTx runs fn in a write transaction and bumps the blocks version when
// fn reports a change.
func blocksTx(ctx context.Context, w DB, fn func(tx Tx) (bool, error)) error {
	tx, err := w.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	changed, err := fn(tx)
	if err != nil {
		return err
	}
	if changed {
		if _, err := tx.Exec(ctx, bumpBlocksVersion); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
