// Package migrate applies versioned SQL migrations to any SQL backend.
//
// Migrations are files named NNNN_name.sql (e.g. 0001_audit.sql) at the root
// of an fs.FS, usually embedded by the backend. Run applies those not yet
// recorded in the schema_migrations table, in version order, each inside its
// own transaction together with its schema_migrations row, so a migration is
// applied completely or not at all. The runner is driver-neutral: it needs
// only the small Conn/Tx surface below, and adapts a *sql.DB via SQL.
package migrate
