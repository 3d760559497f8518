-- 0001: the audit log. One row per finished transaction. Times are Unix
-- nanoseconds (UTC). decisions and content are JSON text; content is NULL
-- unless audit.capture_content is on.
CREATE TABLE audit_log (
	id                INTEGER PRIMARY KEY AUTOINCREMENT,
	request_id        TEXT    NOT NULL,
	ts                INTEGER NOT NULL,
	route             TEXT    NOT NULL DEFAULT '',
	model             TEXT    NOT NULL DEFAULT '',
	upstream          TEXT    NOT NULL DEFAULT '',
	tenant            TEXT    NOT NULL DEFAULT '',
	key_id            TEXT    NOT NULL DEFAULT '',
	subject           TEXT    NOT NULL DEFAULT '',
	client_ip         TEXT    NOT NULL DEFAULT '',
	status            INTEGER NOT NULL DEFAULT 0,
	latency_ns        INTEGER NOT NULL DEFAULT 0,
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	total_tokens      INTEGER NOT NULL DEFAULT 0,
	request_bytes     INTEGER NOT NULL DEFAULT 0,
	response_bytes    INTEGER NOT NULL DEFAULT 0,
	content_mac       TEXT    NOT NULL DEFAULT '',
	decisions         TEXT    NOT NULL DEFAULT '[]',
	blocked           INTEGER NOT NULL DEFAULT 0,
	error             TEXT    NOT NULL DEFAULT '',
	content           TEXT
);

CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_tenant_ts ON audit_log (tenant, ts);
