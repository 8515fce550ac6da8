//! Every migration runs up, down and up again on both backends, and the
//! migrations that change meaning carry existing rows over.

use diesel::connection::SimpleConnection;
use invoice_adapters::outbound::db::repository_error;
use invoice_domain::*;

use crate::support::{act, backends, create, get, open, tenant};

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn migrations_run_up_down_and_up_again() {
    for t in backends() {
        t.db.revert_all()
            .unwrap_or_else(|e| panic!("{}: down failed: {e}", t.backend));
        t.db.migrate()
            .unwrap_or_else(|e| panic!("{}: up again failed: {e}", t.backend));
        // The schema works after the round trip.
        let tenant = tenant(&t.db, "after-roundtrip");
        let inv = create(&t.db, tenant, &[("a", 1, 100, "19")]);
        assert_eq!(inv.lines.len(), 1, "{}", t.backend);
    }
}

/// How many migrations there are from the one named `name` on, so a test
/// can go back to just before it whatever came later.
fn migrations_since(name: &str) -> usize {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let at = names
        .iter()
        .position(|n| n.ends_with(name))
        .expect("the migration exists");
    names.len() - at
}

/// Runs raw SQL on the database, as the schema of an older release would.
fn sql(db: &invoice_adapters::outbound::db::Database, text: &str) {
    db.write_conn(|c| c.batch_execute(text).map_err(repository_error))
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn invoices_written_before_immutable_documents_are_migrated_not_dropped() {
    for t in backends() {
        let tenant = tenant(&t.db, "legacy");
        // An issued invoice with one line cancelled by a credit note, a draft
        // and a discarded draft, as the current code writes them…
        let issued = open(&t.db, tenant, &[("a", 1, 10_000, "19"), ("b", 2, 1_250, "0")]);
        let cancel = CancelRequest::lines(vec![LineRef::ProductId(ProductId::parse("b").unwrap())], None).unwrap();
        act(&t.db, tenant, issued.id, |svc, s, t| svc.cancel(s, t, &cancel)).unwrap();
        let draft = create(&t.db, tenant, &[("a", 1, 10_000, "19"), ("b", 1, 500, "7")]);
        let discarded = create(&t.db, tenant, &[("a", 1, 700, "19")]);
        act(&t.db, tenant, discarded.id, |svc, s, t| {
            svc.cancel(s, t, &CancelRequest::whole(None))
        })
        .unwrap();

        // …then taken back to the previous schema, where cancelled lines
        // left the totals and a draft's cancelled line was only marked.
        t.db.revert_last(migrations_since("immutable_documents"))
            .unwrap_or_else(|e| panic!("{}: down: {e}", t.backend));
        let b_line = draft.lines[1].id;
        sql(
            &t.db,
            &format!(
                "UPDATE invoice_lines SET status = 'cancelled' WHERE id = '{b_line}';
                 UPDATE invoices SET subtotal = 10000, tax = 1900, total = 11900 WHERE id = '{}';",
                draft.id
            ),
        );
        t.db.migrate().unwrap_or_else(|e| panic!("{}: up: {e}", t.backend));

        let now = get(&t.db, tenant, issued.id).unwrap();
        let totals = now.totals();
        assert_eq!(
            (totals.subtotal.minor(), totals.tax.minor(), totals.total.minor()),
            (12_500, 1_900, 14_400),
            "{}: the issued document's totals again include the credited line",
            t.backend
        );
        assert_eq!(totals.amount_credited.minor(), 2_500);
        assert_eq!(totals.amount_due.minor(), 11_900);
        assert_eq!(now.lines[1].status, LineStatus::Cancelled);
        assert_eq!(now.lines[1].credited.amounts, now.lines[1].amounts, "credited in full");
        assert_eq!(now.lines[1].tax.category(), TaxCategory::ZeroRated);
        assert_eq!(now.lines[0].tax.category(), TaxCategory::Standard);
        assert_eq!(now.credit_notes[0].lines[0].tax.category(), TaxCategory::ZeroRated);
        assert_eq!(now.credit_notes[0].total(), now.lines[1].amounts.gross);

        let d = get(&t.db, tenant, draft.id).unwrap();
        assert_eq!(d.lines.len(), 1, "{}: a draft's cancelled line is removed", t.backend);
        assert_eq!(d.totals().total.minor(), 11_900);
        assert_eq!(d.totals().amount_credited, Amount::ZERO);

        let gone = get(&t.db, tenant, discarded.id).unwrap();
        assert_eq!(gone.status, InvoiceStatus::Cancelled);
        assert_eq!(gone.lines.len(), 1, "a discarded draft keeps its lines");
        assert_eq!(gone.lines[0].credited, LineCredit::default(), "nothing was credited");
        assert_eq!(gone.totals().total.minor(), 833, "it reads as drafted");

        let settings = t.db.read(|s| s.settings(tenant)).unwrap();
        assert_eq!(settings, TenantSettings::default());
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn invoices_from_before_number_formats_get_serials_printed_numbers_and_unique_references() {
    for t in backends() {
        let tenant = tenant(&t.db, "legacy");
        let first = open(&t.db, tenant, &[("a", 1, 10_000, "19")]);
        let second = open(&t.db, tenant, &[("a", 1, 500, "19")]);
        let draft = create(&t.db, tenant, &[("a", 1, 700, "19")]);
        let cancel = CancelRequest::whole(None);
        act(&t.db, tenant, second.id, |svc, s, t| svc.cancel(s, t, &cancel)).unwrap();

        // Back to the schema before references and formats, where two
        // invoices could share an external reference.
        t.db.revert_last(migrations_since("references_and_number_formats"))
            .unwrap_or_else(|e| panic!("{}: down: {e}", t.backend));
        sql(&t.db, "UPDATE invoices SET external_reference = 'PO-1'");
        t.db.migrate().unwrap_or_else(|e| panic!("{}: up: {e}", t.backend));

        let [a, b, d] = [first.id, second.id, draft.id].map(|id| get(&t.db, tenant, id).unwrap());
        assert_eq!(
            (a.serial, b.serial, d.serial),
            (1, 2, 3),
            "{}: serials follow creation order",
            t.backend
        );
        assert_eq!(a.number.as_ref().map(|n| n.as_str()), Some("INV-000001"));
        assert_eq!(b.credit_notes[0].number.as_str(), "CN-000001");
        assert_eq!(b.credit_notes[0].invoice_number.as_str(), "INV-000002");
        assert_eq!(
            a.external_reference.as_deref(),
            Some("PO-1"),
            "the first keeps its reference"
        );
        assert_eq!(b.external_reference, Some(format!("PO-1 ({})", b.id)));
        assert_eq!(d.external_reference, Some(format!("PO-1 ({})", d.id)));
        let found =
            t.db.read(|s| s.find(tenant, &InvoiceRef::parse("PO-1").unwrap()))
                .unwrap();
        assert_eq!(found.map(|i| i.id), Some(a.id));

        // The counters carry on: the next invoice is INV-000003, serial 4.
        let next = open(&t.db, tenant, &[("a", 1, 100, "19")]);
        assert_eq!(
            (next.serial, next.number.as_ref().map(|n| n.as_str())),
            (4, Some("INV-000003")),
            "{}",
            t.backend
        );
    }
}
