-- E-invoice terms of an invoice, kept as a versioned JSON document the
-- adapter owns: the buyer reference (BT-10) and the seller frozen at
-- finalize (BG-4). NULL means neither was set (drafts, and invoices issued
-- before seller profiles existed).
ALTER TABLE invoices ADD COLUMN einvoice TEXT;
