// Package sqlstore is the query logic that the SQLite and PostgreSQL stores
// share: tenants and API keys, secrets, blocks, the audit log and spend,
// MCP pins and the statements of a subject erasure, written once against a small interface over both
// drivers (database/sql and pgx).
//
// Statements are written with SQLite's placeholders ("?" in order, or "?N"
// for a numbered one) and rewritten for the backend's Dialect once, when
// the Store is built, never per request. A backend embeds the Store (the
// Store's exported methods are the store contracts) and keeps what really
// differs: how it connects, its transactions' locking and its migrations.
package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// bumpGeneration tells every replica to drop its cached identities.
const bumpGeneration = `UPDATE identity_generation SET generation = generation + 1 WHERE id = 1`

// Row is one result row; Scan reports sql.ErrNoRows when there is none
// (pgx.ErrNoRows matches it with errors.Is).
type Row interface {
	Scan(dest ...any) error
}

// Rows iterates a query's result rows.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Querier runs statements: on a pool, one connection or a transaction.
type Querier interface {
	// Exec runs q and reports how many rows it changed.
	Exec(ctx context.Context, q string, args ...any) (int64, error)
	Query(ctx context.Context, q string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) Row
}

// Tx is a transaction. Rollback after Commit does nothing (callers defer
// it and ignore its error).
type Tx interface {
	Querier
	// ExecMany runs q once per argument list, as cheaply as the driver
	// allows (a prepared statement, a batch).
	ExecMany(ctx context.Context, q string, args [][]any) error
	// InsertMany runs q, an INSERT ... RETURNING id, once per argument
	// list as ExecMany does and returns each row's id, in order.
	InsertMany(ctx context.Context, q string, args [][]any) ([]int64, error)
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// DB is a database handle that starts write transactions.
type DB interface {
	Begin(ctx context.Context) (Tx, error)
}

// Dialect is what differs between the backends' SQL.
type Dialect struct {
	// Name prefixes every error ("sqlite", "postgres").
	Name string
	// Numbered rewrites placeholders to $1, $2, ... (PostgreSQL).
	Numbered bool
	// ForUpdate is appended to a SELECT whose rows the transaction then
	// changes (" FOR UPDATE"; "" where transactions are serialised).
	ForUpdate string
	// Position names the function that returns the 1-based position of a
	// substring, 0 if absent: position(haystack, needle).
	Position string
	// LockDataKeys, if set, runs before a rewrap to keep writers of data
	// keys out until it commits.
	LockDataKeys string
	// IsUnique reports a unique-constraint violation.
	IsUnique func(error) bool
	// IsDataError reports an error caused by the values written (a data
	// exception, an integrity or size limit), which writing them again
	// repeats; nil: none is known.
	IsDataError func(error) bool
}

// sql rewrites a statement written with SQLite placeholders for d.
func (d Dialect) sql(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		b.WriteByte('$')
		if j > i+1 {
			b.WriteString(q[i+1 : j])
		} else {
			n++
			b.WriteString(strconv.Itoa(n))
		}
		i = j - 1
	}
	return b.String()
}

// Store implements identity.Store, store.SecretStore and store.BlockStore
// over a backend.
// It is safe for concurrent use.
type Store struct {
	d      Dialect
	read   Querier
	writer func() (DB, error)
	id     identitySQL
	sec    secretSQL
	blk    blockSQL
	erase  eraseSQL
	mcp    mcpSQL
	aud    auditSQL
}

// New builds a Store that reads through read and writes in transactions
// of the DB that writer returns (or fails with writer's error, unwrapped,
// for a read-only store).
func New(d Dialect, read Querier, writer func() (DB, error)) *Store {
	return &Store{d: d, read: read, writer: writer,
		id: newIdentitySQL(d), sec: newSecretSQL(d), blk: newBlockSQL(d), erase: newEraseSQL(d), mcp: newMCPSQL(d), aud: newAuditSQL(d)}
}

// errorf formats an error with the backend's prefix.
func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf(s.d.Name+": "+format, args...)
}

// inTx runs fn in a write transaction that also bumps the identity
// generation when bump is set.
func (s *Store) inTx(ctx context.Context, bump bool, fn func(tx Tx) error) error {
	w, err := s.writer()
	if err != nil {
		return err
	}
	tx, err := w.Begin(ctx)
	if err != nil {
		return s.errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if bump {
		if _, err := tx.Exec(ctx, bumpGeneration); err != nil {
			return s.errorf("identity generation: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return s.errorf("commit: %w", err)
	}
	return nil
}

// collect scans every row of a query (rows, err) with scan and closes
// rows; it returns the query's, a scan's or the iteration's error.
func collect[T any](rows Rows, err error, scan func(Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
