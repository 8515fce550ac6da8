DROP TABLE balance_entries;
DROP TABLE customer_balances;
ALTER TABLE invoices DROP COLUMN details;
ALTER TABLE refunds DROP COLUMN destination;
ALTER TABLE payments DROP COLUMN source;
-- Goodwill lines have no invoice line to key them by: they go.
CREATE TABLE credit_note_lines_old (
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
    tax_category TEXT NOT NULL,
    exemption_reason_code TEXT,
    exemption_reason TEXT,
    PRIMARY KEY (tenant_id, credit_note_id, line_id),
    FOREIGN KEY (tenant_id, credit_note_id) REFERENCES credit_notes (tenant_id, id)
);
INSERT INTO credit_note_lines_old
SELECT tenant_id, credit_note_id, line_id, position, description, quantity, unit_amount, tax_rate, tax_inclusive,
       net, tax, gross, tax_category, exemption_reason_code, exemption_reason
  FROM credit_note_lines WHERE line_id IS NOT NULL;
DROP TABLE credit_note_lines;
ALTER TABLE credit_note_lines_old RENAME TO credit_note_lines;
ALTER TABLE credit_notes DROP COLUMN settlement;
