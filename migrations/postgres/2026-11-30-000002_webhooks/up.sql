-- Webhooks (PostgreSQL): endpoints, one delivery per (endpoint, event), every
-- attempt of a delivery, and each tenant's fan-out cursor into `events`.
-- Same tables and columns as the SQLite migration; every key and index
-- leads with tenant_id.

CREATE TABLE webhook_endpoints (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    description TEXT,
    event_types TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    disabled_at TIMESTAMP,
    active_since TIMESTAMP NOT NULL,
    failed_deliveries BIGINT NOT NULL,
    failing_since TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhook_endpoints_status ON webhook_endpoints (tenant_id, status);

CREATE TABLE webhook_deliveries (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    locked_until TIMESTAMP,
    claim_token TEXT,
    last_attempt_at TIMESTAMP,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, endpoint_id, event_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES events (tenant_id, id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    tenant_id BIGINT NOT NULL,
    delivery_id TEXT NOT NULL,
    id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_body TEXT,
    PRIMARY KEY (tenant_id, delivery_id, id),
    FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id)
);

CREATE TABLE webhook_cursor (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    last_seq BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id)
);
