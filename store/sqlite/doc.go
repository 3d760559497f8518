// Package sqlite is rampart's embedded store: one SQLite file in the data
// directory, opened with modernc.org/sqlite (pure Go, no cgo).
//
// The database runs in WAL mode with a busy timeout and foreign keys on. A
// DB holds one writer connection (SQLite allows one writer at a time; a
// single connection turns lock contention into Go-side queueing) and a pool
// of query-only reader connections, which WAL lets run alongside the
// writer. The file is created 0600 in a 0700 directory. The schema is built
// by store/migrate from the embedded migrations/ files.
package sqlite
