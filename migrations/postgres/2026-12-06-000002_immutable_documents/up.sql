-- Issued invoices become immutable documents; corrections are credit notes.
--
-- * Lines get a VAT category, an exemption reason and what credit notes have
--   credited of them. A cancelled line of an issued invoice was credited in
--   full by its credit note, so that is what it gets.
-- * A draft is not a document: the lines cancelled on open drafts are
--   removed from them, as cancelling a draft's line now does.
-- * Invoice totals become the document's totals as issued, cancelled lines
--   included; the credit notes carry the corrections.
-- * Invoices get the record of a write-off (uncollectible); tenants get
--   their settings, kept as a versioned JSON document.
ALTER TABLE invoice_lines ADD COLUMN tax_category TEXT NOT NULL DEFAULT 'S';
ALTER TABLE invoice_lines ADD COLUMN exemption_reason_code TEXT;
ALTER TABLE invoice_lines ADD COLUMN exemption_reason TEXT;
ALTER TABLE invoice_lines ADD COLUMN credited_quantity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines ADD COLUMN credited_net BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines ADD COLUMN credited_tax BIGINT NOT NULL DEFAULT 0;
ALTER TABLE invoice_lines ADD COLUMN credited_gross BIGINT NOT NULL DEFAULT 0;
UPDATE invoice_lines SET tax_category = 'Z' WHERE tax_rate = 0;
ALTER TABLE invoice_lines ALTER COLUMN tax_category DROP DEFAULT;

UPDATE invoice_lines l
   SET credited_quantity = l.quantity, credited_net = l.net, credited_tax = l.tax, credited_gross = l.gross
  FROM invoices i
 WHERE i.tenant_id = l.tenant_id AND i.id = l.invoice_id
   AND i.number_seq IS NOT NULL AND l.status = 'cancelled';

DELETE FROM invoice_lines l
 USING invoices i
 WHERE i.tenant_id = l.tenant_id AND i.id = l.invoice_id
   AND i.status = 'draft' AND l.status = 'cancelled';

UPDATE invoices i SET
    subtotal = COALESCE((SELECT SUM(l.net) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id), 0),
    tax = COALESCE((SELECT SUM(l.tax) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id), 0),
    total = COALESCE((SELECT SUM(l.gross) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id), 0);

ALTER TABLE invoices ADD COLUMN uncollectible TEXT;

ALTER TABLE credit_note_lines ADD COLUMN tax_category TEXT NOT NULL DEFAULT 'S';
ALTER TABLE credit_note_lines ADD COLUMN exemption_reason_code TEXT;
ALTER TABLE credit_note_lines ADD COLUMN exemption_reason TEXT;
UPDATE credit_note_lines SET tax_category = 'Z' WHERE tax_rate = 0;
ALTER TABLE credit_note_lines ALTER COLUMN tax_category DROP DEFAULT;

ALTER TABLE tenants ADD COLUMN settings TEXT NOT NULL DEFAULT '{"v":1}';
