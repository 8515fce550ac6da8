-- Corrections after payment: credit notes settled by refund or onto a
-- customer's credit balance, goodwill credit lines tied to no invoice line,
-- and links between a reissued invoice and its replacement.
ALTER TABLE credit_notes ADD COLUMN settlement TEXT NOT NULL DEFAULT 'reduce_due';
ALTER TABLE credit_notes ALTER COLUMN settlement DROP DEFAULT;

-- A goodwill line credits no invoice line: lines are keyed by position.
ALTER TABLE credit_note_lines DROP CONSTRAINT credit_note_lines_pkey;
ALTER TABLE credit_note_lines ALTER COLUMN line_id DROP NOT NULL;
ALTER TABLE credit_note_lines ADD PRIMARY KEY (tenant_id, credit_note_id, position);

ALTER TABLE payments ADD COLUMN source TEXT NOT NULL DEFAULT 'external';
ALTER TABLE payments ALTER COLUMN source DROP DEFAULT;
ALTER TABLE refunds ADD COLUMN destination TEXT NOT NULL DEFAULT 'original_method';
ALTER TABLE refunds ALTER COLUMN destination DROP DEFAULT;

-- Attributes of an invoice that no query filters on, as a versioned JSON
-- document owned by the storage adapter (today: reissue links).
ALTER TABLE invoices ADD COLUMN details TEXT NOT NULL DEFAULT '{"v":1}';

CREATE TABLE customer_balances (
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    customer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance BIGINT NOT NULL CHECK (balance >= 0),
    PRIMARY KEY (tenant_id, customer_id, currency)
);

CREATE TABLE balance_entries (
    tenant_id BIGINT NOT NULL,
    seq BIGSERIAL NOT NULL,
    id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    direction TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    invoice_id TEXT NOT NULL,
    credit_note_id TEXT,
    payment_id TEXT,
    refund_id TEXT,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id, currency) REFERENCES customer_balances (tenant_id, customer_id, currency),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
CREATE INDEX balance_entries_customer ON balance_entries (tenant_id, customer_id, currency, seq);
CREATE INDEX balance_entries_invoice ON balance_entries (tenant_id, invoice_id);
