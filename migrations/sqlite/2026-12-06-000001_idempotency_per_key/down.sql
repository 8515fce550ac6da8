-- Back to one record per (tenant, key): keep the newest record of each key.
CREATE TABLE idempotency_keys_old (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    content_type TEXT,
    created_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
INSERT OR REPLACE INTO idempotency_keys_old
    (tenant_id, key, request_hash, state, response_status, response_body, content_type, created_at, locked_until)
SELECT tenant_id, key, request_hash, state, response_status, response_body, content_type, created_at, locked_until
  FROM idempotency_keys ORDER BY created_at, api_key_id;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_old RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created ON idempotency_keys (tenant_id, created_at);
