-- 0006: routing and spend. Each audit record lists its upstream attempts
-- (JSON, '' when there were none) and carries its cost in nano-USD (1e-9
-- USD) with whether a price was known. spend_daily adds up requests, tokens
-- and cost per UTC day, tenant, key, user and model; the audit log writes
-- it in the same transaction as the records, so replicas sharing the store
-- add to the same rows. Months are sums of days.
ALTER TABLE audit_log ADD COLUMN attempts TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN cost_nanos BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN priced BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE spend_daily (
	day               TEXT   NOT NULL,
	tenant            TEXT   NOT NULL,
	key_id            TEXT   NOT NULL,
	subject           TEXT   NOT NULL,
	model             TEXT   NOT NULL,
	requests          BIGINT NOT NULL DEFAULT 0,
	unpriced          BIGINT NOT NULL DEFAULT 0,
	prompt_tokens     BIGINT NOT NULL DEFAULT 0,
	completion_tokens BIGINT NOT NULL DEFAULT 0,
	cost_nanos        BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, tenant, key_id, subject, model)
);

CREATE INDEX spend_daily_tenant_day ON spend_daily (tenant, day);
