package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migration is one versioned SQL file.
type Migration struct {
	Version int64
	// Name is the file name without ".sql", e.g. "0001_audit".
	Name string
	SQL  string
}

// Conn is what the runner needs from a database.
type Conn interface {
	// Begin starts a transaction.
	Begin(ctx context.Context) (Tx, error)
}

// Tx is one migration transaction. Statements take no parameters: the
// runner inlines only values it validated itself (integers and file names
// matching fileName).
type Tx interface {
	// Exec runs one or more SQL statements.
	Exec(ctx context.Context, query string) error
	// QueryInt64s runs a query returning one integer column.
	QueryInt64s(ctx context.Context, query string) ([]int64, error)
	Commit() error
	Rollback() error
}

// Options tune Run for a backend.
type Options struct {
	// LockSQL, when set, runs first in every migration transaction to
	// serialise concurrent migrators, e.g. PostgreSQL
	// "SELECT pg_advisory_xact_lock(7262)". SQLite needs none when its
	// transactions begin IMMEDIATE.
	LockSQL string
}

var fileName = regexp.MustCompile(`^([0-9]{4,9})_([a-z0-9_]+)\.sql$`)

// Load reads the migrations at the root of fsys, sorted by version. Files
// not ending in .sql are ignored; a .sql file with a malformed name or a
// duplicate version is an error.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: read migrations: %w", err)
	}
	var out []Migration
	seen := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || len(name) < 4 || name[len(name)-4:] != ".sql" {
			continue
		}
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("migrate: %q: name must look like 0001_name.sql (lower-case letters, digits, _)", name)
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("migrate: %q: version must be a positive number", name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrate: %q and %q have the same version %d", prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migrate: read %q: %w", name, err)
		}
		out = append(out, Migration{Version: v, Name: name[:len(name)-4], SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`

// Run applies the migrations in fsys that conn has not recorded yet and
// returns the versions it applied. It refuses a database that records a
// version this binary does not know (a newer schema).
func Run(ctx context.Context, conn Conn, fsys fs.FS, opt Options) ([]int64, error) {
	migs, err := Load(fsys)
	if err != nil {
		return nil, err
	}
	known := make(map[int64]bool, len(migs))
	for _, m := range migs {
		known[m.Version] = true
	}
	var applied []int64
	// Each migration gets its own transaction; the applied set is re-read
	// inside it (after LockSQL) so concurrent migrators skip finished work.
	for _, m := range migs {
		did, err := apply(ctx, conn, m, known, opt)
		if err != nil {
			return applied, err
		}
		if did {
			applied = append(applied, m.Version)
		}
	}
	if len(migs) == 0 {
		// Still check the database is not newer than us.
		if _, err := apply(ctx, conn, Migration{}, known, opt); err != nil {
			return nil, err
		}
	}
	return applied, nil
}

func apply(ctx context.Context, conn Conn, m Migration, known map[int64]bool, opt Options) (done bool, err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if opt.LockSQL != "" {
		if err := tx.Exec(ctx, opt.LockSQL); err != nil {
			return false, fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if err := tx.Exec(ctx, createTable); err != nil {
		return false, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	have, err := tx.QueryInt64s(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return false, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	already := false
	for _, v := range have {
		if !known[v] {
			return false, fmt.Errorf("migrate: database has schema version %d, which this binary does not know (a newer rampart wrote it)", v)
		}
		if v == m.Version {
			already = true
		}
	}
	if m.Version == 0 || already {
		return false, tx.Rollback()
	}
	if err := tx.Exec(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migrate: %s: %w", m.Name, err)
	}
	// Name matched fileName (lower-case letters, digits, _), so inlining it
	// in the statement is safe.
	rec := "INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
		strconv.FormatInt(m.Version, 10) + ", '" + m.Name + "', '" +
		time.Now().UTC().Format(time.RFC3339) + "')"
	if err := tx.Exec(ctx, rec); err != nil {
		return false, fmt.Errorf("migrate: record %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate: commit %s: %w", m.Name, err)
	}
	return true, nil
}

// Current returns the highest applied version (0 when none or when the
// schema_migrations table does not exist yet).
func Current(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int64, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	if err != nil {
		if isNoTable(err) {
			return 0, nil
		}
		return 0, err
	}
	return v.Int64, nil
}

func isNoTable(err error) bool {
	// Both SQLite ("no such table") and PostgreSQL ("does not exist",
	// SQLSTATE 42P01) phrase it in their message.
	s := err.Error()
	return strings.Contains(s, "no such table") || strings.Contains(s, "does not exist") || strings.Contains(s, "42P01")
}

// SQL adapts a *sql.DB (any database/sql driver, e.g. modernc.org/sqlite or
// pgx's stdlib) to Conn.
func SQL(db *sql.DB) Conn { return sqlConn{db} }

type sqlConn struct{ db *sql.DB }

func (c sqlConn) Begin(ctx context.Context) (Tx, error) {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return sqlTx{tx}, nil
}

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Exec(ctx context.Context, q string) error {
	_, err := t.tx.ExecContext(ctx, q)
	return err
}

func (t sqlTx) QueryInt64s(ctx context.Context, q string) ([]int64, error) {
	rows, err := t.tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (t sqlTx) Commit() error { return t.tx.Commit() }

func (t sqlTx) Rollback() error {
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}
