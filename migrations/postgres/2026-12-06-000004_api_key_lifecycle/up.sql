-- API keys may expire, and remember when they were last used (updated when
-- a server instance loads the key into its cache, so about once per cache
-- period). Revocation already has `revoked_at`.
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMP;
