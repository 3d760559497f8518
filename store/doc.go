// Package store defines rampart's persistence contract: the interfaces the
// gateway's services call (audit log, identities and tenants, secrets,
// blocks, subject erasure) and the record types they persist.
//
// Backends live in sub-packages: store/sqlite (embedded, the default) and
// store/postgres (shared by several replicas). The query logic they share
// is written once in store/internal/sqlstore against a small interface
// over both drivers; each backend keeps its connection handling, its audit
// queries and its migrations, which the driver-neutral runner in
// store/migrate applies.
//
// The types here depend only on the engine contract, so both the audit
// package (which builds records from an engine.Tx) and every backend can
// import them without cycles.
package store
