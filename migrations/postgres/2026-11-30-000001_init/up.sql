-- Storno schema (PostgreSQL). Every key and index leads with tenant_id so the
-- schema can be distributed by tenant (Citus); tenants and api_keys are small
-- global tables (Citus reference tables).

CREATE TABLE tenants (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE api_keys (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    party_id TEXT,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);

CREATE TABLE invoices (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    series TEXT NOT NULL,
    number_seq BIGINT,
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    issuer_id TEXT,
    customer TEXT NOT NULL,
    issuer TEXT,
    subtotal BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    amount_paid BIGINT NOT NULL,
    collection_method TEXT NOT NULL,
    next_payment_attempt TIMESTAMP,
    collection_halted BOOLEAN NOT NULL,
    approval TEXT NOT NULL,
    cancellation TEXT,
    void_record TEXT,
    due_date DATE,
    external_reference TEXT,
    metadata TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    issued_at TIMESTAMP,
    paid_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    voided_at TIMESTAMP,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, series, number_seq)
);
CREATE INDEX invoices_status ON invoices (tenant_id, status, id);
CREATE INDEX invoices_customer ON invoices (tenant_id, customer_id, id);
CREATE INDEX invoices_issuer ON invoices (tenant_id, issuer_id, id);
CREATE INDEX invoices_created ON invoices (tenant_id, created_at, id);

CREATE TABLE invoice_lines (
    tenant_id BIGINT NOT NULL,
    invoice_id TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    product_id TEXT,
    variation_id TEXT,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_amount BIGINT NOT NULL,
    tax_rate BIGINT NOT NULL,
    tax_inclusive BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);

CREATE TABLE payments (
    tenant_id BIGINT NOT NULL,
    invoice_id TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    amount BIGINT NOT NULL,
    method TEXT,
    reference TEXT,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);

CREATE TABLE refunds (
    tenant_id BIGINT NOT NULL,
    invoice_id TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    reason TEXT,
    refunded_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, payment_id, id),
    FOREIGN KEY (tenant_id, invoice_id, payment_id) REFERENCES payments (tenant_id, invoice_id, id)
);

CREATE TABLE credit_notes (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    series TEXT NOT NULL,
    number_seq BIGINT NOT NULL,
    invoice_series TEXT NOT NULL,
    invoice_number_seq BIGINT NOT NULL,
    invoice_issued_at TIMESTAMP NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    subtotal BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, series, number_seq),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
CREATE INDEX credit_notes_invoice ON credit_notes (tenant_id, invoice_id);

CREATE TABLE credit_note_lines (
    tenant_id BIGINT NOT NULL,
    credit_note_id TEXT NOT NULL,
    line_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_amount BIGINT NOT NULL,
    tax_rate BIGINT NOT NULL,
    tax_inclusive BOOLEAN NOT NULL,
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, credit_note_id, line_id),
    FOREIGN KEY (tenant_id, credit_note_id) REFERENCES credit_notes (tenant_id, id)
);

CREATE TABLE number_series (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    kind TEXT NOT NULL,
    series TEXT NOT NULL,
    next_value BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, series)
);

CREATE TABLE events (
    tenant_id BIGINT NOT NULL,
    seq BIGSERIAL NOT NULL,
    id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    invoice_version BIGINT NOT NULL,
    data TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
CREATE INDEX events_invoice ON events (tenant_id, invoice_id, seq);
CREATE INDEX events_type ON events (tenant_id, event_type, seq);

CREATE TABLE idempotency_keys (
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
CREATE INDEX idempotency_keys_created ON idempotency_keys (tenant_id, created_at);
