package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/rampart-ai/rampart/store/internal/sqlstore"
)

// dialect is SQLite's SQL for the shared store: "?" placeholders, no row
// locks (the single writer connection serialises write transactions).
var dialect = sqlstore.Dialect{Name: "sqlite", Position: "instr", IsUnique: isUnique}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// shared is the query logic common to both backends. DB embeds it through
// this alias so that its methods (tenants, keys, secrets, blocks) are DB's
// while the field stays unexported.
type shared = sqlstore.Store

// newShared builds db's shared store over its read pool and writer.
func (db *DB) newShared() *shared {
	return sqlstore.New(dialect, querier{db.r}, func() (sqlstore.DB, error) {
		w, err := db.writer()
		if err != nil {
			return nil, err
		}
		return beginner{w}, nil
	})
}

// querier adapts a database/sql pool, connection or transaction to
// sqlstore.Querier.
type querier struct {
	q interface {
		ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	}
}

func (q querier) Exec(ctx context.Context, s string, args ...any) (int64, error) {
	res, err := q.q.ExecContext(ctx, s, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q querier) Query(ctx context.Context, s string, args ...any) (sqlstore.Rows, error) {
	r, err := q.q.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (q querier) QueryRow(ctx context.Context, s string, args ...any) sqlstore.Row {
	return q.q.QueryRowContext(ctx, s, args...)
}

type rows struct{ *sql.Rows }

func (r rows) Close() { _ = r.Rows.Close() }

// beginner adapts the writer pool to sqlstore.DB.
type beginner struct{ w *sql.DB }

func (b beginner) Begin(ctx context.Context) (sqlstore.Tx, error) {
	t, err := b.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return storeTx{querier{t}, t}, nil
}

// storeTx adapts a write transaction to sqlstore.Tx.
type storeTx struct {
	querier
	t *sql.Tx
}

func (t storeTx) Commit(context.Context) error   { return t.t.Commit() }
func (t storeTx) Rollback(context.Context) error { return t.t.Rollback() }

// InsertMany runs q through one prepared statement, scanning each id.
func (t storeTx) InsertMany(ctx context.Context, q string, args [][]any) ([]int64, error) {
	stmt, err := t.t.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	ids := make([]int64, len(args))
	for i, a := range args {
		if err := stmt.QueryRowContext(ctx, a...).Scan(&ids[i]); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// ExecMany runs q through one prepared statement.
func (t storeTx) ExecMany(ctx context.Context, q string, args [][]any) error {
	stmt, err := t.t.PrepareContext(ctx, q)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, a := range args {
		if _, err := stmt.ExecContext(ctx, a...); err != nil {
			return err
		}
	}
	return nil
}
