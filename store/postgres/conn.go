package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rampart-ai/rampart/store/internal/sqlstore"
)

// dialect is PostgreSQL's SQL for the shared store: numbered placeholders,
// row and table locks where concurrent replicas write.
var dialect = sqlstore.Dialect{
	Name:         "postgres",
	Numbered:     true,
	ForUpdate:    " FOR UPDATE",
	Position:     "strpos",
	LockDataKeys: `LOCK TABLE secret_data_keys IN SHARE ROW EXCLUSIVE MODE`,
	IsUnique:     isUnique,
	IsDataError:  isDataError,
}

// isDataError reports an error of the values written: SQLSTATE class 22
// (data exception: a NUL byte, bad encoding), 23 (integrity) or 54
// (program limit: an index row too large).
func isDataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) != 5 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// isUnique reports a unique-constraint violation (SQLSTATE 23505).
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// shared is the query logic common to both backends. DB embeds it through
// this alias so that its methods (tenants, keys, secrets, blocks) are
// DB's while the field stays unexported.
type shared = sqlstore.Store

// newShared builds the shared store over pool.
func newShared(pool *pgxpool.Pool) *shared {
	return sqlstore.New(dialect, querier{pool}, func() (sqlstore.DB, error) { return beginner{pool}, nil })
}

// querier adapts a pgx pool or transaction to sqlstore.Querier.
type querier struct {
	q interface {
		Exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, q string, args ...any) pgx.Row
	}
}

func (q querier) Exec(ctx context.Context, s string, args ...any) (int64, error) {
	tag, err := q.q.Exec(ctx, s, args...)
	return tag.RowsAffected(), err
}

func (q querier) Query(ctx context.Context, s string, args ...any) (sqlstore.Rows, error) {
	return q.q.Query(ctx, s, args...)
}

func (q querier) QueryRow(ctx context.Context, s string, args ...any) sqlstore.Row {
	return q.q.QueryRow(ctx, s, args...)
}

// beginner adapts the pool to sqlstore.DB.
type beginner struct{ pool *pgxpool.Pool }

func (b beginner) Begin(ctx context.Context) (sqlstore.Tx, error) {
	t, err := b.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return storeTx{querier{t}, t}, nil
}

// storeTx adapts a transaction to sqlstore.Tx.
type storeTx struct {
	querier
	t pgx.Tx
}

func (t storeTx) Commit(ctx context.Context) error   { return t.t.Commit(ctx) }
func (t storeTx) Rollback(ctx context.Context) error { return t.t.Rollback(ctx) }

// InsertMany sends q once per argument list in one batch and scans each
// row's id.
func (t storeTx) InsertMany(ctx context.Context, q string, args [][]any) ([]int64, error) {
	b := &pgx.Batch{}
	for _, a := range args {
		b.Queue(q, a...)
	}
	br := t.t.SendBatch(ctx, b)
	ids := make([]int64, len(args))
	for i := range args {
		if err := br.QueryRow().Scan(&ids[i]); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	return ids, br.Close()
}

// ExecMany sends q once per argument list in one batch.
func (t storeTx) ExecMany(ctx context.Context, q string, args [][]any) error {
	b := &pgx.Batch{}
	for _, a := range args {
		b.Queue(q, a...)
	}
	return t.t.SendBatch(ctx, b).Close()
}
