-- Each transaction's resulting invoice is stored once, as a versioned
-- document the adapter owns, instead of a full snapshot in every event.
-- Events keep (invoice_id, invoice_version) and their own small data.
CREATE TABLE invoice_versions (
    tenant_id BIGINT NOT NULL,
    invoice_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- 0: the domain snapshot events carried before this migration;
    -- 1: the adapter's own document (outbound::db::versions).
    format INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (tenant_id, invoice_id, version),
    FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id)
);

-- Every snapshot becomes the version it showed; the events of one
-- transaction carried the same snapshot, so one row per version is kept.
INSERT INTO invoice_versions (tenant_id, invoice_id, version, format, body)
SELECT tenant_id, invoice_id, invoice_version, 0, snapshot FROM events WHERE snapshot <> '' ORDER BY seq
ON CONFLICT DO NOTHING;

ALTER TABLE events DROP COLUMN snapshot;
