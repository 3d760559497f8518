// Package storetest is the one test suite every rampart store backend
// passes (store/sqlite, store/postgres): identity (tenants, keys, the
// identity generation) and the audit contract. A backend's own _test.go
// calls Run with a function that opens a fresh, empty store.
package storetest
