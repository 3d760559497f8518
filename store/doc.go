// Package store defines rampart's persistence contract: the interfaces the
// gateway's services (audit log, and later identity and tenants) call, and
// the record types they persist. Backends live in sub-packages
// (store/sqlite, and later store/postgres); their schema is built by the
// driver-neutral migration runner in store/migrate.
//
// The types here depend only on the engine contract, so both the audit
// package (which builds records from an engine.Tx) and every backend can
// import them without cycles.
package store
