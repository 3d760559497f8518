-- 0003: blocks (PostgreSQL). Active blocks and throttles of API keys, users, client
-- addresses and networks that every replica enforces (layers/blocklist),
-- and the blocks version that replicas poll to reload them. Times are Unix
-- nanoseconds (UTC). Expired rows are ignored and purged.
CREATE TABLE blocks (
	id         TEXT    PRIMARY KEY,
	kind       TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	tenant     TEXT    NOT NULL DEFAULT '',
	action     TEXT    NOT NULL,
	rpm        BIGINT  NOT NULL DEFAULT 0,
	reason     TEXT    NOT NULL DEFAULT '',
	created_by TEXT    NOT NULL DEFAULT '',
	created_at BIGINT  NOT NULL,
	expires_at BIGINT  NOT NULL
);

CREATE INDEX blocks_expires ON blocks (expires_at);

CREATE TABLE blocks_version (
	id      SMALLINT PRIMARY KEY CHECK (id = 1),
	version BIGINT  NOT NULL
);

INSERT INTO blocks_version (id, version) VALUES (1, 0);
