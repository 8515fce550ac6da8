-- Idempotency records belong to the API key that made the request, so a
-- stored reply is replayed only to that key. Records written before this
-- migration have no known owner: they get the empty key id, which no key
-- has, so they are never replayed and expire with the retention window.
-- SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE idempotency_keys_new (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    api_key_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    content_type TEXT,
    created_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, api_key_id, key)
);
INSERT INTO idempotency_keys_new
    (tenant_id, api_key_id, key, request_hash, state, response_status, response_body, content_type, created_at, locked_until)
SELECT tenant_id, '', key, request_hash, state, response_status, response_body, content_type, created_at, locked_until
  FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_created ON idempotency_keys (tenant_id, created_at);
