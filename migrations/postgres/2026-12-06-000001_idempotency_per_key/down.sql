-- Back to one record per (tenant, key): keep the newest record of each key.
DELETE FROM idempotency_keys a USING idempotency_keys b
 WHERE a.tenant_id = b.tenant_id AND a.key = b.key
   AND (a.created_at, a.api_key_id) < (b.created_at, b.api_key_id);
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys DROP COLUMN api_key_id;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, key);
