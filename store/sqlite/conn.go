package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/rampart-ai/rampart/store/internal/sqlstore"
)

// dialect is SQLite's SQL for the shared store: "?" placeholders, no row
// locks (the single writer connection serialises write transactions).
var dialect = sqlstore.Dialect{Name: "sqlite", Position: "instr", IsUnique: isUnique, IsDataError: isDataError}

// isDataError reports an error of the values written (a constraint, a
// string or blob over SQLite's limit).
func isDataError(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "constraint failed") || strings.Contains(err.Error(), "too big"))
}

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

// insertRows is how many rows one multi-row INSERT carries: 32 rows of the
// audit log's 25 columns bind 800 parameters, far under SQLite's limit
// (32766), and cut the per-statement cost (database/sql, bind, VDBE
// start and halt) 32-fold.
const insertRows = 32

// InsertMany inserts the rows of q, an "INSERT ... VALUES (...) RETURNING
// id" whose table has an AUTOINCREMENT key, insertRows at a time in
// multi-row statements. SQLite inserts the rows of a VALUES list in order
// and AUTOINCREMENT gives each a larger id than every earlier one, so the
// returned ids, sorted, are the rows' ids in argument order (RETURNING
// itself promises no order).
func (t storeTx) InsertMany(ctx context.Context, q string, args [][]any) ([]int64, error) {
	head, tuple, tail, ok := splitValues(q)
	if !ok || len(args) < 2 {
		return t.insertEach(ctx, q, args)
	}
	ids := make([]int64, 0, len(args))
	var (
		stmt  *sql.Stmt
		stmtN int
		flat  []any
	)
	defer func() {
		if stmt != nil {
			_ = stmt.Close()
		}
	}()
	for start := 0; start < len(args); start += insertRows {
		chunk := args[start:min(start+insertRows, len(args))]
		if stmt == nil || stmtN != len(chunk) {
			if stmt != nil {
				_ = stmt.Close()
			}
			var b strings.Builder
			b.Grow(len(head) + len(chunk)*(len(tuple)+1) + len(tail))
			b.WriteString(head)
			for i := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(tuple)
			}
			b.WriteString(tail)
			var err error
			if stmt, err = t.t.PrepareContext(ctx, b.String()); err != nil {
				stmt = nil
				return nil, err
			}
			stmtN = len(chunk)
		}
		flat = flat[:0]
		for _, a := range chunk {
			flat = append(flat, a...)
		}
		rs, err := stmt.QueryContext(ctx, flat...)
		if err != nil {
			return nil, err
		}
		first := len(ids)
		for rs.Next() {
			var id int64
			if err := rs.Scan(&id); err != nil {
				_ = rs.Close()
				return nil, err
			}
			ids = append(ids, id)
		}
		if err := rs.Close(); err != nil {
			return nil, err
		}
		if err := rs.Err(); err != nil {
			return nil, err
		}
		if len(ids)-first != len(chunk) {
			return nil, fmt.Errorf("sqlite: insert returned %d ids for %d rows", len(ids)-first, len(chunk))
		}
		slices.Sort(ids[first:])
	}
	return ids, nil
}

// splitValues splits "INSERT ... VALUES (?, ...) RETURNING id" into the
// text before the tuple, the tuple and the text after it.
func splitValues(q string) (head, tuple, tail string, ok bool) {
	v := strings.LastIndex(q, "VALUES")
	if v < 0 {
		return "", "", "", false
	}
	open := strings.IndexByte(q[v:], '(')
	if open < 0 {
		return "", "", "", false
	}
	open += v
	end := strings.IndexByte(q[open:], ')')
	if end < 0 {
		return "", "", "", false
	}
	end += open + 1
	return q[:open], q[open:end], q[end:], true
}

// insertEach runs q once per argument list through one prepared statement.
func (t storeTx) insertEach(ctx context.Context, q string, args [][]any) ([]int64, error) {
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
