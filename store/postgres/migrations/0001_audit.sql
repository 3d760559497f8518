-- 0001: the audit log (PostgreSQL). One row per finished transaction. Times
-- are Unix nanoseconds (UTC), as in the SQLite backend. decisions and
-- content are JSON text; content is NULL unless audit.capture_content is on.
CREATE TABLE audit_log (
	id                BIGSERIAL PRIMARY KEY,
	request_id        TEXT    NOT NULL,
	ts                BIGINT  NOT NULL,
	route             TEXT    NOT NULL DEFAULT '',
	model             TEXT    NOT NULL DEFAULT '',
	upstream          TEXT    NOT NULL DEFAULT '',
	tenant            TEXT    NOT NULL DEFAULT '',
	key_id            TEXT    NOT NULL DEFAULT '',
	subject           TEXT    NOT NULL DEFAULT '',
	client_ip         TEXT    NOT NULL DEFAULT '',
	status            INTEGER NOT NULL DEFAULT 0,
	latency_ns        BIGINT  NOT NULL DEFAULT 0,
	prompt_tokens     BIGINT  NOT NULL DEFAULT 0,
	completion_tokens BIGINT  NOT NULL DEFAULT 0,
	total_tokens      BIGINT  NOT NULL DEFAULT 0,
	request_bytes     BIGINT  NOT NULL DEFAULT 0,
	response_bytes    BIGINT  NOT NULL DEFAULT 0,
	content_mac       TEXT    NOT NULL DEFAULT '',
	decisions         TEXT    NOT NULL DEFAULT '[]',
	blocked           BOOLEAN NOT NULL DEFAULT FALSE,
	error             TEXT    NOT NULL DEFAULT '',
	content           TEXT
);

CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_tenant_ts ON audit_log (tenant, ts);
