-- Corrections after payment: credit notes settled by refund or onto a
-- customer's credit balance, goodwill credit lines tied to no invoice line,
-- and links between a reissued invoice and its replacement.
ALTER TABLE credit_notes ADD COLUMN settlement TEXT NOT NULL DEFAULT 'reduce_due';

-- A goodwill line credits no invoice line: lines are keyed by position.
-- SQLite cannot change a primary key in place: the table is rebuilt.
CREATE TABLE credit_note_lines_new (
    tenant_id BIGINT NOT NULL,
    credit_note_id TEXT NOT NULL,
    line_id TEXT,
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_amount BIGINT NOT NULL,
    tax_rate BIGINT NOT NULL,
    tax_inclusive BOOLEAN NOT NULL,
    net BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    gross BIGINT NOT NULL,
    tax_category TEXT NOT NULL,
    exemption_reason_code TEXT,
    exemption_reason TEXT,
    PRIMARY KEY (tenant_id, credit_note_id, position),
    FOREIGN KEY (tenant_id, credit_note_id) REFERENCES credit_notes (tenant_id, id)
);
INSERT INTO credit_note_lines_new
SELECT tenant_id, credit_note_id, line_id, position, description, quantity, unit_amount, tax_rate, tax_inclusive,
       net, tax, gross, tax_category, exemption_reason_code, exemption_reason
  FROM credit_note_lines;
DROP TABLE credit_note_lines;
ALTER TABLE credit_note_lines_new RENAME TO credit_note_lines;

ALTER TABLE payments ADD COLUMN source TEXT NOT NULL DEFAULT 'external';
ALTER TABLE refunds ADD COLUMN destination TEXT NOT NULL DEFAULT 'original_method';

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
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
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
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id, currency) REFERENCES customer_balances (tenant_id, customer_id, currency),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);
CREATE INDEX balance_entries_customer ON balance_entries (tenant_id, customer_id, currency, seq);
CREATE INDEX balance_entries_invoice ON balance_entries (tenant_id, invoice_id);
