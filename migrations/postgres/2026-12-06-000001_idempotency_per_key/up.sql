-- Idempotency records belong to the API key that made the request, so a
-- stored reply is replayed only to that key. Records written before this
-- migration have no known owner: they get the empty key id, which no key
-- has, so they are never replayed and expire with the retention window.
ALTER TABLE idempotency_keys ADD COLUMN api_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ALTER COLUMN api_key_id DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, api_key_id, key);
