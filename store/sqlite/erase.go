package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/rampart-ai/rampart/store"
	"github.com/rampart-ai/rampart/store/internal/sqlstore"
)

var (
	_ store.SubjectEraser = (*DB)(nil)
	_ store.AuditStore    = (*DB)(nil)
)

// EraseSubject erases every record of id (store.SubjectEraser) in one
// transaction run with SQLite's secure_delete on, so the freed bytes are
// overwritten with zeros; the write-ahead log is then checkpointed and
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
		if e, err = sqlstore.EraseIn(ctx, db.shared, querier{tx}, id); err != nil {
			return err
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
