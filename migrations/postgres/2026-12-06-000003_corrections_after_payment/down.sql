DROP TABLE balance_entries;
DROP TABLE customer_balances;
ALTER TABLE invoices DROP COLUMN details;
ALTER TABLE refunds DROP COLUMN destination;
ALTER TABLE payments DROP COLUMN source;
-- Goodwill lines have no invoice line to key them by: they go.
DELETE FROM credit_note_lines WHERE line_id IS NULL;
ALTER TABLE credit_note_lines DROP CONSTRAINT credit_note_lines_pkey;
ALTER TABLE credit_note_lines ALTER COLUMN line_id SET NOT NULL;
ALTER TABLE credit_note_lines ADD PRIMARY KEY (tenant_id, credit_note_id, line_id);
ALTER TABLE credit_notes DROP COLUMN settlement;
