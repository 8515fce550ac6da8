-- Invoices are named by id, number or external reference; numbers follow a
-- tenant's format, with counters that may restart each period; invoices get
-- an integer serial for APIs that name them by integers. A number is now
-- stored as printed, and it is the printed number that is unique.

-- Before the external reference becomes unique per tenant, later duplicates
-- are told apart by their invoice id; the first one keeps its reference.
UPDATE invoices i
   SET external_reference = i.external_reference || ' (' || i.id || ')'
 WHERE i.external_reference IS NOT NULL
   AND EXISTS (SELECT 1 FROM invoices o
                WHERE o.tenant_id = i.tenant_id
                  AND o.external_reference = i.external_reference
                  AND (o.created_at, o.id) < (i.created_at, i.id));

ALTER TABLE invoices ADD COLUMN serial BIGINT;
UPDATE invoices i
   SET serial = r.serial
  FROM (SELECT tenant_id, id, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY created_at, id) AS serial
          FROM invoices) r
 WHERE r.tenant_id = i.tenant_id AND r.id = i.id;
ALTER TABLE invoices ALTER COLUMN serial SET NOT NULL;
ALTER TABLE invoices ADD COLUMN number TEXT;
UPDATE invoices SET number = series || '-' || lpad(number_seq::text, 6, '0') WHERE number_seq IS NOT NULL;
ALTER TABLE invoices DROP CONSTRAINT invoices_tenant_id_series_number_seq_key;
CREATE UNIQUE INDEX invoices_serial ON invoices (tenant_id, serial);
CREATE UNIQUE INDEX invoices_number ON invoices (tenant_id, number) WHERE number IS NOT NULL;
CREATE UNIQUE INDEX invoices_external_reference ON invoices (tenant_id, external_reference)
    WHERE external_reference IS NOT NULL;

ALTER TABLE credit_notes ADD COLUMN number TEXT;
ALTER TABLE credit_notes ADD COLUMN invoice_number TEXT;
UPDATE credit_notes
   SET number = series || '-' || lpad(number_seq::text, 6, '0'),
       invoice_number = invoice_series || '-' || lpad(invoice_number_seq::text, 6, '0');
ALTER TABLE credit_notes ALTER COLUMN number SET NOT NULL;
ALTER TABLE credit_notes ALTER COLUMN invoice_number SET NOT NULL;
ALTER TABLE credit_notes DROP CONSTRAINT credit_notes_tenant_id_series_number_seq_key;
CREATE UNIQUE INDEX credit_notes_number ON credit_notes (tenant_id, number);

-- Counters are keyed by the number's text around its sequence; the old
-- series counters printed `SERIES-000001`, so they become `SERIES-{SEQ}`.
ALTER TABLE number_series RENAME COLUMN series TO counter;
UPDATE number_series SET counter = counter || '-{SEQ}';
INSERT INTO number_series (tenant_id, kind, counter, next_value)
SELECT tenant_id, 'invoice_serial', '', MAX(serial) + 1 FROM invoices GROUP BY tenant_id;

ALTER TABLE invoice_lines ADD COLUMN kind TEXT;
