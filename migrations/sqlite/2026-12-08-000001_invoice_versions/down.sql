-- Puts each version's document back into the events of that version.
-- Documents written in format 1 are not the old snapshot shape; code from
-- before this migration reads only format 0.
ALTER TABLE events ADD COLUMN snapshot TEXT NOT NULL DEFAULT '';
UPDATE events SET snapshot = (
    SELECT v.body FROM invoice_versions v
    WHERE v.tenant_id = events.tenant_id AND v.invoice_id = events.invoice_id AND v.version = events.invoice_version
) WHERE EXISTS (
    SELECT 1 FROM invoice_versions v
    WHERE v.tenant_id = events.tenant_id AND v.invoice_id = events.invoice_id AND v.version = events.invoice_version
);
DROP TABLE invoice_versions;
