-- 0005: the OpenTelemetry trace id of each audited transaction (32 hex
-- digits; empty when tracing was off), so that an audit record leads to the
-- request's trace and log lines.
ALTER TABLE audit_log ADD COLUMN trace_id TEXT NOT NULL DEFAULT '';
