-- Puts the snapshots that came from events back into them. Documents
-- written in format 1 are not the old snapshot shape, so their events get
-- an empty snapshot: going down loses them (a development tool only).
ALTER TABLE events ADD COLUMN snapshot TEXT NOT NULL DEFAULT '';
UPDATE events SET snapshot = (
    SELECT v.body FROM invoice_versions v
    WHERE v.tenant_id = events.tenant_id AND v.invoice_id = events.invoice_id AND v.version = events.invoice_version AND v.format = 0
) WHERE EXISTS (
    SELECT 1 FROM invoice_versions v
    WHERE v.tenant_id = events.tenant_id AND v.invoice_id = events.invoice_id AND v.version = events.invoice_version AND v.format = 0
);
DROP TABLE invoice_versions;
