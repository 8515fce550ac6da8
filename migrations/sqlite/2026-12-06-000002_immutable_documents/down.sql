-- Back to totals of active lines only. Lines removed from drafts are not
-- restored: they were removed by the old rules too, only marked instead.
ALTER TABLE tenants DROP COLUMN settings;
ALTER TABLE credit_note_lines DROP COLUMN exemption_reason;
ALTER TABLE credit_note_lines DROP COLUMN exemption_reason_code;
ALTER TABLE credit_note_lines DROP COLUMN tax_category;
ALTER TABLE invoices DROP COLUMN uncollectible;
UPDATE invoices SET
    subtotal = COALESCE((SELECT SUM(l.net) FROM invoice_lines l WHERE l.tenant_id = invoices.tenant_id AND l.invoice_id = invoices.id AND l.status = 'active'), 0),
    tax = COALESCE((SELECT SUM(l.tax) FROM invoice_lines l WHERE l.tenant_id = invoices.tenant_id AND l.invoice_id = invoices.id AND l.status = 'active'), 0),
    total = COALESCE((SELECT SUM(l.gross) FROM invoice_lines l WHERE l.tenant_id = invoices.tenant_id AND l.invoice_id = invoices.id AND l.status = 'active'), 0);
ALTER TABLE invoice_lines DROP COLUMN credited_gross;
ALTER TABLE invoice_lines DROP COLUMN credited_tax;
ALTER TABLE invoice_lines DROP COLUMN credited_net;
ALTER TABLE invoice_lines DROP COLUMN credited_quantity;
ALTER TABLE invoice_lines DROP COLUMN exemption_reason;
ALTER TABLE invoice_lines DROP COLUMN exemption_reason_code;
ALTER TABLE invoice_lines DROP COLUMN tax_category;
