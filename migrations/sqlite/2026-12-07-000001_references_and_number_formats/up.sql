-- Invoices are named by id, number or external reference; numbers follow a
-- tenant's format, with counters that may restart each period; invoices get
-- an integer serial for APIs that name them by integers.
--
-- A number is now stored as printed (`number`), so the old uniqueness of
-- (series, sequence) gives way to uniqueness of the printed number. SQLite
-- cannot drop a table constraint: invoices and credit_notes are rebuilt
-- (the migration runner turns foreign-key enforcement off around this and
-- checks every reference before committing).

-- Before the external reference becomes unique per tenant, later duplicates
-- are told apart by their invoice id; the first one keeps its reference.
UPDATE invoices
   SET external_reference = external_reference || ' (' || id || ')'
 WHERE external_reference IS NOT NULL
   AND EXISTS (SELECT 1 FROM invoices o
                WHERE o.tenant_id = invoices.tenant_id
                  AND o.external_reference = invoices.external_reference
                  AND (o.created_at < invoices.created_at
                       OR (o.created_at = invoices.created_at AND o.id < invoices.id)));

CREATE TABLE invoices_new (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    serial BIGINT NOT NULL,
    series TEXT NOT NULL,
    number_seq BIGINT,
    number TEXT,
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
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO invoices_new
SELECT tenant_id, id,
       (SELECT COUNT(*) FROM invoices o
         WHERE o.tenant_id = i.tenant_id
           AND (o.created_at < i.created_at OR (o.created_at = i.created_at AND o.id <= i.id))),
       series, number_seq,
       CASE WHEN number_seq IS NULL THEN NULL ELSE printf('%s-%06d', series, number_seq) END,
       status, currency, customer_id, issuer_id, customer, issuer, subtotal, tax, total, amount_paid,
       collection_method, next_payment_attempt, collection_halted, approval, cancellation, void_record,
       due_date, external_reference, metadata, version, created_at, updated_at, issued_at, paid_at,
       cancelled_at, voided_at, uncollectible, details
  FROM invoices i;
DROP TABLE invoices;
ALTER TABLE invoices_new RENAME TO invoices;
CREATE INDEX invoices_status ON invoices (tenant_id, status, id);
CREATE INDEX invoices_customer ON invoices (tenant_id, customer_id, id);
CREATE INDEX invoices_issuer ON invoices (tenant_id, issuer_id, id);
CREATE INDEX invoices_created ON invoices (tenant_id, created_at, id);
CREATE UNIQUE INDEX invoices_serial ON invoices (tenant_id, serial);
CREATE UNIQUE INDEX invoices_number ON invoices (tenant_id, number) WHERE number IS NOT NULL;
CREATE UNIQUE INDEX invoices_external_reference ON invoices (tenant_id, external_reference)
    WHERE external_reference IS NOT NULL;

CREATE TABLE credit_notes_new (
    tenant_id BIGINT NOT NULL,
    id TEXT NOT NULL,
    invoice_id TEXT NOT NULL,
    series TEXT NOT NULL,
    number_seq BIGINT NOT NULL,
    number TEXT NOT NULL,
    invoice_series TEXT NOT NULL,
    invoice_number_seq BIGINT NOT NULL,
    invoice_number TEXT NOT NULL,
    invoice_issued_at TIMESTAMP NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    subtotal BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    settlement TEXT NOT NULL DEFAULT 'reduce_due',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
INSERT INTO credit_notes_new
SELECT tenant_id, id, invoice_id, series, number_seq, printf('%s-%06d', series, number_seq),
       invoice_series, invoice_number_seq, printf('%s-%06d', invoice_series, invoice_number_seq),
       invoice_issued_at, currency, reason, subtotal, tax, total, issued_at, settlement
  FROM credit_notes;
DROP TABLE credit_notes;
ALTER TABLE credit_notes_new RENAME TO credit_notes;
CREATE INDEX credit_notes_invoice ON credit_notes (tenant_id, invoice_id);
CREATE UNIQUE INDEX credit_notes_number ON credit_notes (tenant_id, number);

-- Counters are keyed by the number's text around its sequence; the old
-- series counters printed `SERIES-000001`, so they become `SERIES-{SEQ}`.
ALTER TABLE number_series RENAME COLUMN series TO counter;
UPDATE number_series SET counter = counter || '-{SEQ}';
INSERT INTO number_series (tenant_id, kind, counter, next_value)
SELECT tenant_id, 'invoice_serial', '', MAX(serial) + 1 FROM invoices GROUP BY tenant_id;

ALTER TABLE invoice_lines ADD COLUMN kind TEXT;
