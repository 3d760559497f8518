// Package audit is rampart's audit log: one record per finished transaction
// with who called, what was routed where, every layer decision and its
// findings, token usage, sizes and an HMAC of the content — never the raw
// text: with audit.capture_content on, redacted and encrypted text.
//
// A Log implements engine.Recorder. Record copies what it needs from the
// transaction and hands the record to a background writer through a bounded
// queue; the writer stores records in batches (audit.batch_size, at most
// audit.flush_interval late). When the queue is full the record is dropped
// and counted (rampart_audit_dropped_total) so that a slow disk never slows
// requests. With audit.sync the record is written before Record returns.
// Close writes everything still queued.
//
// Data protection (retention.go, erase.go, content.go):
//
//   - Purger enforces audit.retention (default 30 days, 0 keeps records
//     forever): it runs the store's PurgeAudit at start and every
//     audit.purge_interval, with an injectable Clock for tests, and exports
//     rampart_audit_purged_total.
//   - Eraser deletes every record of a user id or API key id
//     (store.SubjectEraser) and writes an audit record of the erasure that
//     holds an HMAC of the id (SubjectMAC), never the id.
//   - With audit.capture_content, captured text is redacted (Redactor:
//     detect/pii and detect/secrets spans become "[ENTITY]") and encrypted
//     (a ContentCipher, package secrets) in the writer goroutine before it is
//     stored; without EnableContentCapture nothing is captured. OpenContent
//     decrypts a record's content for readers holding the master key.
package audit
