-- 0020: MCP tool pinning. The approved definition of every tool of
-- every fronted MCP server (SHA-256 of its canonical JSON), and a served
-- definition that differs from it (new and flagged, or changed: a "rug
-- pull"), withheld until an administrator approves or rejects it. Times
-- are Unix nanoseconds (UTC).
CREATE TABLE mcp_tools (
	server              TEXT    NOT NULL,
	tool                TEXT    NOT NULL,
	status              TEXT    NOT NULL,
	approved_hash       TEXT    NOT NULL DEFAULT '',
	approved_definition TEXT    NOT NULL DEFAULT '',
	pending_hash        TEXT    NOT NULL DEFAULT '',
	pending_definition  TEXT    NOT NULL DEFAULT '',
	reason              TEXT    NOT NULL DEFAULT '',
	decided_by          TEXT    NOT NULL DEFAULT '',
	seen_at             BIGINT  NOT NULL,
	updated_at          BIGINT  NOT NULL,
	PRIMARY KEY (server, tool)
);
