-- 0040: review feedback (admin console, /admin/feedback). One row per
-- request id, layer and rule: a reviewer's verdict on a block or
-- would-be block (false_positive or true_positive), with the redacted
-- text judged when the reviewer gave it. Times are Unix nanoseconds (UTC).
CREATE TABLE feedback (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	ts         BIGINT NOT NULL,
	tenant     TEXT   NOT NULL DEFAULT '',
	request_id TEXT   NOT NULL,
	layer      TEXT   NOT NULL,
	rule       TEXT   NOT NULL DEFAULT '',
	verdict    TEXT   NOT NULL,
	role       TEXT   NOT NULL DEFAULT '',
	text       TEXT   NOT NULL DEFAULT '',
	note       TEXT   NOT NULL DEFAULT '',
	by_whom    TEXT   NOT NULL DEFAULT '',
	UNIQUE (request_id, layer, rule)
);

CREATE INDEX feedback_tenant ON feedback (tenant, id);
