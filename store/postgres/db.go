package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rampart-ai/rampart/store/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations are the embedded schema migrations of this backend.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	return sub
}

// migrationLock serialises concurrent migrators (any constant unique to rampart).
const migrationLock = "SELECT pg_advisory_xact_lock(7262)"

// DB is an open rampart PostgreSQL store, safe for concurrent use.
type DB struct {
	*shared // tenants, keys, secrets and blocks (conn.go)
	pool    *pgxpool.Pool
}

// Options tune OpenWith.
type Options struct {
	// StatementTimeout, when positive, is set as the server-side
	// statement_timeout of every pooled connection, unless the DSN sets
	// statement_timeout itself: PostgreSQL then ends a statement that runs
	// longer even when the client's cancel request cannot reach it.
	StatementTimeout time.Duration
}

// Open connects to dsn (a libpq URL or key=value string), checks the
// connection and applies pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) { return OpenWith(ctx, dsn, Options{}) }

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error text can include the DSN (with a password): keep it out.
		return nil, errors.New("postgres: invalid DSN")
	}
	if o.StatementTimeout > 0 {
		if _, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !set {
			cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(o.StatementTimeout.Milliseconds(), 1), 10)
		}
	}
	if cfg.MaxConns < 4 {
		cfg.MaxConns = 4
	}
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{shared: newShared(pool), pool: pool}
	if _, err := migrate.Run(ctx, pgxConn{pool}, Migrations(), migrate.Options{LockSQL: migrationLock}); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return db, nil
}

// Pool returns the underlying pool (for tests and diagnostics).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// pgxConn adapts a pool to migrate.Conn. Statements without arguments run
// over the simple protocol, so one migration file may hold several.
type pgxConn struct{ pool *pgxpool.Pool }

func (c pgxConn) Begin(ctx context.Context) (migrate.Tx, error) {
	tx, err := c.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return pgxTx{tx: tx, ctx: ctx}, nil
}

type pgxTx struct {
	tx  pgx.Tx
	ctx context.Context
}

func (t pgxTx) Exec(ctx context.Context, q string) error {
	_, err := t.tx.Exec(ctx, q)
	return err
}

func (t pgxTx) QueryInt64s(ctx context.Context, q string) ([]int64, error) {
	rows, err := t.tx.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func (t pgxTx) Commit() error { return t.tx.Commit(t.ctx) }

func (t pgxTx) Rollback() error {
	if err := t.tx.Rollback(context.WithoutCancel(t.ctx)); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// inTx runs fn in a transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}
