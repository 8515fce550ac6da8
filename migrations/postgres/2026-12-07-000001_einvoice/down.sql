ALTER TABLE invoices DROP COLUMN einvoice;
