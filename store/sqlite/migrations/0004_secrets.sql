-- 0004: secrets at rest (envelope encryption, package secrets). Data keys
-- are stored only wrapped by a master key, which is never stored; master_id
-- is the wrapping master key's fingerprint. A secret's value is stored only
-- as AES-256-GCM ciphertext under its own data key. Times are Unix
-- nanoseconds (UTC).
CREATE TABLE secret_data_keys (
	id         TEXT    PRIMARY KEY,
	master_id  TEXT    NOT NULL,
	wrapped    BLOB    NOT NULL,
	purpose    TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE secrets (
	name        TEXT    PRIMARY KEY,
	data_key_id TEXT    NOT NULL REFERENCES secret_data_keys (id),
	ciphertext  BLOB    NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
