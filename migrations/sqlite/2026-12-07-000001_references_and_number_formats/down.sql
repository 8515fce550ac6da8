-- Back to numbers unique by (series, sequence); fails, changing nothing,
-- when numbers issued under a period format repeat a sequence.
ALTER TABLE invoice_lines DROP COLUMN kind;

DELETE FROM number_series WHERE kind = 'invoice_serial';
DELETE FROM number_series WHERE counter NOT LIKE '%-{SEQ}';
UPDATE number_series SET counter = substr(counter, 1, length(counter) - 6);
ALTER TABLE number_series RENAME COLUMN counter TO series;

CREATE TABLE credit_notes_old (
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
    settlement TEXT NOT NULL DEFAULT 'reduce_due',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, series, number_seq),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
INSERT INTO credit_notes_old
SELECT tenant_id, id, invoice_id, series, number_seq, invoice_series, invoice_number_seq, invoice_issued_at,
       currency, reason, subtotal, tax, total, issued_at, settlement
  FROM credit_notes;
DROP TABLE credit_notes;
ALTER TABLE credit_notes_old RENAME TO credit_notes;
CREATE INDEX credit_notes_invoice ON credit_notes (tenant_id, invoice_id);

CREATE TABLE invoices_old (
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
    uncollectible TEXT,
    details TEXT NOT NULL DEFAULT '{"v":1}',
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, series, number_seq)
);
INSERT INTO invoices_old
SELECT tenant_id, id, series, number_seq, status, currency, customer_id, issuer_id, customer, issuer, subtotal,
       tax, total, amount_paid, collection_method, next_payment_attempt, collection_halted, approval,
       cancellation, void_record, due_date, external_reference, metadata, version, created_at, updated_at,
       issued_at, paid_at, cancelled_at, voided_at, uncollectible, details
  FROM invoices;
DROP TABLE invoices;
ALTER TABLE invoices_old RENAME TO invoices;
CREATE INDEX invoices_status ON invoices (tenant_id, status, id);
CREATE INDEX invoices_customer ON invoices (tenant_id, customer_id, id);
CREATE INDEX invoices_issuer ON invoices (tenant_id, issuer_id, id);
CREATE INDEX invoices_created ON invoices (tenant_id, created_at, id);
