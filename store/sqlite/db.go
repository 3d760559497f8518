package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/rampart-ai/rampart/store/migrate"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the database file's name inside the data directory.
const FileName = "rampart.db"

// PathIn returns the database path inside dataDir.
func PathIn(dataDir string) string { return filepath.Join(dataDir, FileName) }

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

// BusyTimeoutMillis is how long a connection waits for a lock held by
// another connection or process before failing with SQLITE_BUSY.
const BusyTimeoutMillis = 5000

// DB is an open rampart SQLite database. It implements store.AuditStore,
// identity.Store, store.SecretStore, store.BlockStore and
// store.SubjectEraser, and is safe for concurrent use.
type DB struct {
	*shared // tenants, keys, secrets and blocks (conn.go)
	path    string
	w       *sql.DB // single writer connection; nil for a reader-only DB
	r       *sql.DB // query-only read pool
}

// Open opens (creating if needed) the database at path, creates its
// directory with mode 0700, restricts the file to 0600 and applies pending
// migrations.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	_ = f.Close()
	// An existing file may have been created with looser permissions.
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("sqlite: chmod %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	db := &DB{path: path, w: w}
	ctx := context.Background()
	if _, err := migrate.Run(ctx, migrate.SQL(w), Migrations(), migrate.Options{}); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	db.r = openReaders(path)
	db.shared = db.newShared()
	return db, nil
}

// OpenReader opens an existing database for queries only (rampart audit
// tail/export). It never creates the file, never migrates and cannot
// write, so it is safe to use while the gateway runs.
func OpenReader(path string) (*DB, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: no database at %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("sqlite: %s is a directory", path)
	}
	db := &DB{path: path, r: openReaders(path)}
	v, err := migrate.Current(context.Background(), db.r)
	if err == nil && v == 0 {
		err = errors.New("no rampart schema (not a rampart database, or never opened by the gateway)")
	}
	if err != nil {
		_ = db.r.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	db.shared = db.newShared()
	return db, nil
}

func openReaders(path string) *sql.DB {
	r, _ := sql.Open("sqlite", dsn(path, true)) // sql.Open only validates the driver name
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return r
}

// dsn builds a SQLite URI for path. The path is escaped so that '?', '#'
// and '%' in directory names cannot inject URI parameters.
func dsn(path string, readOnly bool) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	u := url.URL{Path: filepath.ToSlash(path)}
	q := "_busy_timeout=" + strconv.Itoa(BusyTimeoutMillis) + "&_foreign_keys=1"
	if readOnly {
		// Readers follow the file's journal mode (WAL, set by the writer)
		// and never change it.
		q += "&_query_only=1"
	} else {
		// temp_store=MEMORY keeps statement journals (a multi-row
		// INSERT's undo pages, one batch of the audit log at most) off
		// temporary files: no write system calls per statement.
		q += "&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate&_pragma=temp_store(MEMORY)"
	}
	return "file:" + u.EscapedPath() + "?" + q
}

// Path is the database file path.
func (db *DB) Path() string { return db.path }

// Close closes all connections. With WAL, the last writer to close
// checkpoints the log into the main file.
func (db *DB) Close() error {
	var errs []error
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	return errors.Join(errs...)
}

var errReadOnly = errors.New("sqlite: database opened read-only")

func (db *DB) writer() (*sql.DB, error) {
	if db.w == nil {
		return nil, errReadOnly
	}
	return db.w, nil
}
