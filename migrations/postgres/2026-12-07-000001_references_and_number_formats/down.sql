-- Back to numbers unique by (series, sequence); fails, changing nothing,
-- when numbers issued under a period format repeat a sequence.
ALTER TABLE invoice_lines DROP COLUMN kind;

DELETE FROM number_series WHERE kind = 'invoice_serial';
DELETE FROM number_series WHERE counter NOT LIKE '%-{SEQ}';
UPDATE number_series SET counter = left(counter, length(counter) - 6);
ALTER TABLE number_series RENAME COLUMN counter TO series;

DROP INDEX credit_notes_number;
ALTER TABLE credit_notes ADD CONSTRAINT credit_notes_tenant_id_series_number_seq_key UNIQUE (tenant_id, series, number_seq);
ALTER TABLE credit_notes DROP COLUMN invoice_number;
ALTER TABLE credit_notes DROP COLUMN number;

DROP INDEX invoices_external_reference;
DROP INDEX invoices_number;
DROP INDEX invoices_serial;
ALTER TABLE invoices ADD CONSTRAINT invoices_tenant_id_series_number_seq_key UNIQUE (tenant_id, series, number_seq);
ALTER TABLE invoices DROP COLUMN number;
ALTER TABLE invoices DROP COLUMN serial;
