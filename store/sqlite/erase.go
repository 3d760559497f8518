package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rampart-ai/rampart/store"
)

var _ store.SubjectEraser = (*DB)(nil)

// EraseSubject deletes, in one transaction, every audit record whose
// subject or key id is id (with its captured content), the API key whose
// id is id (bumping the identity generation so every replica drops it from
// its cache), clears other keys' replaced_by references to it, deletes
// blocks whose value is id and clears block creators and reasons naming it
// (bumping the blocks version).
//
// The deletion runs with SQLite's secure_delete on, so the freed bytes are
// overwritten with zeros, and the write-ahead log is then checkpointed and
// truncated so no older page image keeps the data. A reader holding an old
// snapshot (e.g. `rampart audit tail --follow` in another process) can
// delay that truncation until the next checkpoint.
func (db *DB) EraseSubject(ctx context.Context, id string) (store.Erasure, error) {
	var e store.Erasure
	if id == "" {
		return e, errors.New("sqlite: erase: empty id")
	}
	w, err := db.writer()
	if err != nil {
		return e, err
	}
	conn, err := w.Conn(ctx)
	if err != nil {
		return e, fmt.Errorf("sqlite: erase: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return e, fmt.Errorf("sqlite: erase: secure_delete: %w", err)
	}
	// The writer connection is shared: restore the default afterwards.
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`) //nolint:errcheck // best effort; only costs write speed
	err = func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: erase: begin: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // no-op after Commit
		if e, err = eraseIn(ctx, tx, id); err != nil {
			return err
		}
		if e.Keys > 0 || e.KeyReferences > 0 {
			if _, err := tx.ExecContext(ctx, bumpGeneration); err != nil {
				return fmt.Errorf("sqlite: erase: identity generation: %w", err)
			}
		}
		if e.Blocks > 0 || e.BlockReferences > 0 {
			if _, err := tx.ExecContext(ctx, bumpBlocksVersion); err != nil {
				return fmt.Errorf("sqlite: erase: blocks version: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: erase: commit: %w", err)
		}
		return nil
	}()
	if err != nil {
		return store.Erasure{}, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return e, fmt.Errorf("sqlite: erase: checkpoint: %w", err)
	}
	return e, nil
}

func eraseIn(ctx context.Context, tx *sql.Tx, id string) (store.Erasure, error) {
	var e store.Erasure
	steps := []struct {
		q   string
		dst *int64
	}{
		{`DELETE FROM audit_log WHERE subject = ?1 OR key_id = ?1`, &e.AuditRecords},
		{`DELETE FROM api_keys WHERE id = ?1`, &e.Keys},
		{`UPDATE api_keys SET replaced_by = '' WHERE replaced_by = ?1`, &e.KeyReferences},
		{`DELETE FROM blocks WHERE value = ?1`, &e.Blocks},
		{`UPDATE blocks SET created_by = CASE WHEN created_by = ?1 THEN '' ELSE created_by END,
			reason = CASE WHEN instr(reason, ?1) > 0 THEN '' ELSE reason END
			WHERE created_by = ?1 OR instr(reason, ?1) > 0`, &e.BlockReferences},
	}
	for _, s := range steps {
		res, err := tx.ExecContext(ctx, s.q, id)
		if err != nil {
			return e, fmt.Errorf("sqlite: erase: %w", err)
		}
		if *s.dst, err = res.RowsAffected(); err != nil {
			return e, fmt.Errorf("sqlite: erase: %w", err)
		}
	}
	return e, nil
}
