// Package postgres is rampart's PostgreSQL store, for several gateway
// replicas sharing one database. It implements the same contracts as
// store/sqlite (store.AuditStore and identity.Store) with pgx/v5 (pgxpool)
// and builds its schema with store/migrate from its own embedded
// migrations/ files (same versions as the SQLite backend). Migrations take
// a transaction-scoped advisory lock, so replicas starting together migrate
// once.
package postgres
