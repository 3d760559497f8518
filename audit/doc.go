// Package audit is rampart's audit log: one record per finished transaction
// with who called, what was routed where, every layer decision and its
// findings, token usage, sizes and an HMAC of the content — never the raw
// text unless audit.capture_content is on.
//
// A Log implements engine.Recorder. Record copies what it needs from the
// transaction and hands the record to a background writer through a bounded
// queue; the writer stores records in batches (audit.batch_size, at most
// audit.flush_interval late). When the queue is full the record is dropped
// and counted (rampart_audit_dropped_total) so that a slow disk never slows
// requests. With audit.sync the record is written before Record returns.
// Close writes everything still queued.
package audit
