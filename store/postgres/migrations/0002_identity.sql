-- 0002: identity (PostgreSQL). Tenants, API keys (only an HMAC-SHA256 of each key is
-- stored, never the key) and the identity generation that every replica
-- polls to drop its authentication cache. Times are Unix nanoseconds (UTC),
-- 0 for "never". models and limits are JSON text.
CREATE TABLE tenants (
	id         TEXT    PRIMARY KEY,
	models     TEXT    NOT NULL DEFAULT '[]',
	policy     TEXT    NOT NULL DEFAULT '',
	limits     TEXT    NOT NULL DEFAULT '{}',
	created_at BIGINT  NOT NULL
);

CREATE TABLE api_keys (
	id           TEXT    PRIMARY KEY,
	name         TEXT    NOT NULL,
	tenant       TEXT    NOT NULL,
	role         TEXT    NOT NULL,
	prefix       TEXT    NOT NULL,
	key_hash     BYTEA   NOT NULL UNIQUE,
	models       TEXT    NOT NULL DEFAULT '[]',
	policy       TEXT    NOT NULL DEFAULT '',
	limits       TEXT    NOT NULL DEFAULT '{}',
	created_at   BIGINT  NOT NULL,
	expires_at   BIGINT  NOT NULL DEFAULT 0,
	last_used_at BIGINT  NOT NULL DEFAULT 0,
	revoked_at   BIGINT  NOT NULL DEFAULT 0,
	replaced_by  TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX api_keys_tenant ON api_keys (tenant);

CREATE TABLE identity_generation (
	id         SMALLINT PRIMARY KEY CHECK (id = 1),
	generation BIGINT  NOT NULL
);

INSERT INTO identity_generation (id, generation) VALUES (1, 0);
