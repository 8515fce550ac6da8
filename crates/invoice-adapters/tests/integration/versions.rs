//! `invoice_versions`: each transaction's invoice stored once, the
//! documents webhook payloads and the event log render from, the
//! one-statement read of the current invoice, and rows of older formats.

use diesel::connection::SimpleConnection;
use invoice_adapters::outbound::db::named::{Named, StoredName};
use invoice_adapters::outbound::db::rows::{InvoiceChanges, InvoiceRow, StoredEvent};
use invoice_adapters::outbound::db::{repository_error, versions, Database};
use invoice_adapters::outbound::webhooks::EventObject;
use invoice_domain::*;

use crate::http_support::{invoice_body, TestServer};
use crate::support::{act, backends, get, open, reopen, reopenable, tenant};

/// Every event of `tenant`, rendered as its webhook payload (the JSON text sent).
fn payloads(db: &Database, tenant: TenantId) -> Vec<String> {
    db.read(|s| {
        let rows: Vec<StoredEvent> = s.event_rows(tenant, None, None, None, 1000)?;
        rows.iter()
            .map(|r| EventObject::from_row(r).map(|o| serde_json::to_string(&o).unwrap()))
            .collect::<Result<Vec<_>, RepositoryError>>()
    })
    .unwrap()
}

fn sql(db: &Database, text: &str) {
    db.write_conn(|c| c.batch_execute(text).map_err(repository_error))
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

#[test]
fn webhook_payloads_are_the_same_after_a_restart_and_from_a_row_in_the_old_format() {
    for (t, url) in reopenable() {
        let tenant = tenant(&t.db, "payloads");
        let inv = open(&t.db, tenant, &[("a", 2, 10_000, "19"), ("b", 1, 1_250, "7")]);
        let cancelled = act(&t.db, tenant, inv.id, |svc, s, t| {
            svc.cancel(s, t, &CancelRequest::whole(None))
        })
        .unwrap()
        .invoice;
        let before = payloads(&t.db, tenant);
        assert_eq!(
            before.len(),
            4,
            "{}: created, finalized, cancelled, credit note",
            t.backend
        );
        assert!(before[3].contains("\"status\":\"cancelled\""), "{}", t.backend);

        // A restart: new pools, new prepared statements, same rows.
        let again = reopen(&url);
        assert_eq!(
            payloads(&again, tenant),
            before,
            "{}: the same after a restart",
            t.backend
        );

        // A stored row in the old format: the domain's serde shape, as
        // events carried it before versions existed (what a later rename of
        // a domain field would leave behind). It renders the same payload.
        for v in [inv.version, cancelled.version] {
            let at = again.read(|s| s.find_version(tenant, inv.id, v)).unwrap().unwrap();
            let old = serde_json::to_string(&at).unwrap().replace('\'', "''");
            sql(
                &again,
                &format!(
                    "UPDATE invoice_versions SET format = 0, body = '{old}' \
                     WHERE tenant_id = {} AND invoice_id = '{}' AND version = {v}",
                    tenant.get(),
                    inv.id
                ),
            );
        }
        assert_eq!(
            payloads(&again, tenant),
            before,
            "{}: the same from rows in the old format",
            t.backend
        );
        // An old-format row is history only: the current invoice then comes
        // from the tables, and it is the same invoice.
        assert_eq!(get(&again, tenant, inv.id).unwrap(), cancelled, "{}", t.backend);
    }
}

/// A snapshot exactly as the events of an earlier release stored it (a
/// fully cancelled five-line invoice, taken from a benchmark capture).
const OLD_SNAPSHOT: &str = r#"{"id":"00000000-0000-7000-8000-100000000204","tenant":5,"number":{"series":"INV","sequence":204},"series":"INV","status":"cancelled","currency":"EUR","issuer":{"id":"trp-001","name":"ABC Transport Ltd","email":null,"tax_number":null,"address":null},"customer":{"id":"cust-1","name":"ACME GmbH","email":"ap@acme.example","tax_number":"DE811907980","address":null},"lines":[{"id":"00000000-0000-7000-8001-100000002040","product_id":"p0","variation_id":null,"description":"Freight leg 0","quantity":1,"unit_amount":12345,"tax_rate":"19","tax_inclusive":false,"status":"cancelled","amounts":{"net":12345,"tax":2346,"gross":14691}},{"id":"00000000-0000-7000-8001-100000002041","product_id":"p1","variation_id":null,"description":"Freight leg 1","quantity":2,"unit_amount":13345,"tax_rate":"19","tax_inclusive":false,"status":"cancelled","amounts":{"net":26690,"tax":5071,"gross":31761}}],"payments":[],"collection":{"method":"automatic","next_payment_attempt":null,"halted":true},"approval":{"state":"not_required"},"cancellation":{"at":"2026-11-30T05:57:18.963696Z","actor":{"id":"key_bench-4","channel":"v1"},"reason":{"code":"other","text":"bench"}},"void":null,"credit_notes":[{"id":"00000000-0000-7000-8100-100000000204","tenant":5,"number":{"series":"CN","sequence":1},"invoice_id":"00000000-0000-7000-8000-100000000204","invoice_number":{"series":"INV","sequence":204},"invoice_issued_at":"2026-11-30T05:55:18.095521Z","currency":"EUR","lines":[{"line_id":"00000000-0000-7000-8001-100000002040","description":"Freight leg 0","quantity":1,"unit_amount":12345,"tax_rate":"19","tax_inclusive":false,"amounts":{"net":12345,"tax":2346,"gross":14691}},{"line_id":"00000000-0000-7000-8001-100000002041","description":"Freight leg 1","quantity":2,"unit_amount":13345,"tax_rate":"19","tax_inclusive":false,"amounts":{"net":26690,"tax":5071,"gross":31761}}],"reason":{"code":"other","text":"bench"},"issued_at":"2026-11-30T05:57:18.963696Z"}],"due_date":"2026-12-31","external_reference":"SUP-2026-118","metadata":{"loadCount":"3"},"version":3,"created_at":"2026-11-30T05:55:18.095521Z","updated_at":"2026-11-30T05:57:18.963696Z","issued_at":"2026-11-30T05:55:18.095521Z","paid_at":null,"cancelled_at":"2026-11-30T05:57:18.963696Z","voided_at":null}"#;

/// A format-1 document as this release writes it; a later change of the
/// document must keep reading it.
const V1_DOC: &str = r#"{"serial":12,"series":"INV","number_seq":7,"number":"INV-2026-0007","status":"open","currency":"EUR","customer_id":"cust-1","customer":{"id":"cust-1","name":"ACME GmbH","email":null,"tax_number":null,"address":null},"subtotal":10000,"tax":1900,"total":11900,"collection_method":"automatic","collection_halted":false,"approval":{"state":"not_required"},"metadata":{},"version":2,"created_at":"2026-12-08T10:00:00","updated_at":"2026-12-08T10:00:01","issued_at":"2026-12-08T10:00:01","details":{"v":1},"lines":[{"id":"0193a000-0000-7000-8000-000000000001","description":"Freight","quantity":1,"unit_amount":10000,"tax_rate":190000,"status":"active","net":10000,"tax":1900,"gross":11900,"tax_category":"S"}]}"#;

#[test]
fn stored_rows_of_each_format_read_back() {
    let (_, old) = versions::decode(
        5,
        "00000000-0000-7000-8000-100000000204",
        versions::FORMAT_LEGACY,
        OLD_SNAPSHOT,
    )
    .expect("an old snapshot reads");
    assert_eq!(old.status, InvoiceStatus::Cancelled);
    assert_eq!(old.lines.len(), 2);
    assert_eq!(old.number_text().as_deref(), Some("INV-000204"));
    assert_eq!(old.credit_notes[0].total().minor(), 14_691 + 31_761);
    assert_eq!(
        old.lines[1].credited.amounts, old.lines[1].amounts,
        "a cancelled line of the old shape was credited whole"
    );

    let (row, v1) = versions::decode(3, "0193a000-0000-7000-8000-00000000000a", versions::FORMAT_V1, V1_DOC)
        .expect("a format-1 document reads");
    assert_eq!(row.tenant_id, 3);
    assert_eq!(v1.status, InvoiceStatus::Open);
    assert_eq!(v1.number_text().as_deref(), Some("INV-2026-0007"));
    assert_eq!(v1.serial, 12);
    assert_eq!(v1.totals().total.minor(), 11_900);
    assert_eq!(v1.lines[0].tax.rate().to_string(), "19");
    // Written again, it reads back as the same invoice.
    let text = versions::encode(&v1, &InvoiceRow::from_domain(&v1).unwrap()).unwrap();
    let (_, again) = versions::decode(3, "0193a000-0000-7000-8000-00000000000a", versions::FORMAT_V1, &text).unwrap();
    assert_eq!(again, v1);
    assert!(
        versions::decode(3, "x", 9, V1_DOC).is_err(),
        "an unknown format is an error, never a default"
    );
}

#[test]
fn a_cancel_updates_only_the_columns_it_changes() {
    for t in backends() {
        let tenant = tenant(&t.db, "lean");
        let inv = open(&t.db, tenant, &[("a", 1, 10_000, "19")]);
        let after = act(&t.db, tenant, inv.id, |svc, s, t| {
            svc.cancel(s, t, &CancelRequest::whole(None))
        })
        .unwrap()
        .invoice;
        let changes = InvoiceChanges::between(
            &InvoiceRow::from_domain(&inv).unwrap(),
            &InvoiceRow::from_domain(&after).unwrap(),
        );
        assert_eq!(
            changes.columns(),
            [
                "status",
                "next_payment_attempt",
                "collection_halted",
                "cancellation",
                "version",
                "updated_at",
                "cancelled_at"
            ],
            "{}",
            t.backend
        );
        assert_eq!(get(&t.db, tenant, inv.id).unwrap(), after, "{}", t.backend);
    }
}

#[test]
fn invoices_last_written_before_versions_existed_read_from_their_tables() {
    for t in backends() {
        let tenant = tenant(&t.db, "legacy-read");
        let inv = open(&t.db, tenant, &[("a", 1, 10_000, "19"), ("b", 3, 500, "7")]);
        sql(
            &t.db,
            &format!(
                "DELETE FROM invoice_versions WHERE tenant_id = {} AND invoice_id = '{}' AND version = {}",
                tenant.get(),
                inv.id,
                inv.version
            ),
        );
        assert_eq!(get(&t.db, tenant, inv.id).unwrap(), inv, "{}", t.backend);
        let scope = Scope::tenant(tenant);
        let one =
            t.db.read_single(|s| crate::support::service().get(s, &scope, &InvoiceRef::Id(inv.id)))
                .unwrap();
        assert_eq!(one, inv, "{}: also outside a transaction", t.backend);
        // And a write on it stores a version again.
        let cancelled = act(&t.db, tenant, inv.id, |svc, s, t| {
            svc.cancel(s, t, &CancelRequest::whole(None))
        })
        .unwrap()
        .invoice;
        let stored =
            t.db.read(|s| s.find_version(tenant, inv.id, cancelled.version))
                .unwrap();
        assert_eq!(stored.as_ref(), Some(&cancelled), "{}", t.backend);
    }
}

#[test]
fn get_returns_a_past_version_and_lists_summaries_unless_lines_are_expanded() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let id = inv["id"].as_str().unwrap();
        let r = s
            .req("POST", &format!("/v1/invoices/{id}/cancel"))
            .json(&serde_json::json!({"reason": "test"}))
            .send();
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        let version = r.json["version"].as_u64().unwrap();

        let at = |v: &str| s.req("GET", &format!("/v1/invoices/{id}?version={v}")).send();
        let draft = at("1");
        assert_eq!(draft.status, 200, "{}: {}", s.backend, draft.text);
        assert_eq!(draft.json["status"], "draft");
        assert_eq!(draft.json["number"], serde_json::Value::Null);
        let issued = at(&(version - 1).to_string());
        assert_eq!(issued.json["status"], "open", "{}", s.backend);
        assert_eq!(issued.json["credit_notes"].as_array().unwrap().len(), 0);
        let now = at(&version.to_string());
        assert_eq!(now.json["status"], "cancelled");
        assert_eq!(now.json, s.req("GET", &format!("/v1/invoices/{id}")).send().json);
        assert_eq!(at("99").status, 404, "{}: a version it never had", s.backend);
        assert_eq!(at("0").status, 400);
        assert_eq!(at("x").status, 400);
        // By number too.
        let number = inv["number"].as_str().unwrap();
        let by_number = s.req("GET", &format!("/v1/invoices/{number}?version=1")).send();
        assert_eq!(by_number.json["status"], "draft");
        // Another tenant sees no version of it.
        let (_, other) = s.other_tenant("other");
        let r = s
            .req("GET", &format!("/v1/invoices/{id}?version=1"))
            .bearer(&other)
            .send();
        assert_eq!(r.status, 404, "{}", s.backend);

        let list = s.req("GET", "/v1/invoices").send();
        assert_eq!(list.status, 200);
        let item = &list.json["data"][0];
        assert_eq!(item["id"], id);
        assert_eq!(item["status"], "cancelled");
        assert_eq!(item["total"], now.json["total"]);
        assert_eq!(item["amount_credited"], now.json["amount_credited"]);
        assert!(item.get("lines").is_none(), "{}: a summary has no lines", s.backend);
        let expanded = s.req("GET", "/v1/invoices?expand=lines").send();
        assert_eq!(expanded.json["data"][0]["lines"], now.json["lines"], "{}", s.backend);
        assert_eq!(s.req("GET", "/v1/invoices?expand=payments").send().status, 400);
    }
}

/// The text a row's column holds, as raw SQL reads it.
#[derive(diesel::QueryableByName)]
struct RawText {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

/// The texts `column` of `table` holds for `tenant`, sorted, without repeats.
fn stored_texts(db: &Database, tenant: TenantId, table: &str, column: &str) -> Vec<String> {
    use diesel::prelude::*;
    let rows: Vec<RawText> = db
        .read_conn(|c| {
            diesel::sql_query(format!(
                "SELECT DISTINCT {column} AS text FROM {table} WHERE tenant_id = $1 AND {column} IS NOT NULL \
                 ORDER BY text"
            ))
            .bind::<diesel::sql_types::BigInt, _>(tenant.get())
            .load(c)
            .map_err(repository_error)
        })
        .unwrap();
    rows.into_iter().map(|r| r.text).collect()
}

/// A typed column value read back through the same mapping the rows use.
#[derive(diesel::QueryableByName)]
struct TypedText<T: StoredName> {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: Named<T>,
}

/// Writes every value of `T` into `column` of `tenant`'s rows of `table`
/// through the typed mapping, and checks the raw text each leaves and that
/// it reads back as itself.
fn sweep<T: StoredName + PartialEq>(
    db: &Database,
    tenant: TenantId,
    table: &str,
    column: &str,
    expected: &[(T, &str)],
) {
    use diesel::prelude::*;
    for (value, name) in expected {
        db.write_conn(|c| {
            diesel::sql_query(format!("UPDATE {table} SET {column} = $1 WHERE tenant_id = $2"))
                .bind::<diesel::sql_types::Text, _>(Named(*value))
                .bind::<diesel::sql_types::BigInt, _>(tenant.get())
                .execute(c)
                .map_err(repository_error)
        })
        .unwrap();
        assert_eq!(stored_texts(db, tenant, table, column), [*name], "{table}.{column}");
        let back: Vec<TypedText<T>> = db
            .read_conn(|c| {
                diesel::sql_query(format!("SELECT {column} AS text FROM {table} WHERE tenant_id = $1"))
                    .bind::<diesel::sql_types::BigInt, _>(tenant.get())
                    .load(c)
                    .map_err(repository_error)
            })
            .unwrap();
        assert!(back.iter().all(|r| r.text == Named(*value)), "{table}.{column}: {name}");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn every_status_like_value_is_stored_in_the_spelling_existing_rows_hold() {
    use serde_json::json;
    for t in backends() {
        let s = TestServer::start(t);
        let sent = std::cell::Cell::new(0);
        let post = |path: &str, body: serde_json::Value| {
            sent.set(sent.get() + 1);
            let key = format!("write-{}", sent.get());
            let r = s.req("POST", path).header("Idempotency-Key", &key).json(&body).send();
            assert!(r.status < 300, "{}: {path}: {}", s.backend, r.text);
            r.json
        };
        // Real writes: an invoice paid in full, credited by refund and onto
        // the customer's balance; a draft; a voided invoice.
        let inv = s.open(&invoice_body());
        let id = inv["id"].as_str().unwrap();
        post(&format!("/v1/invoices/{id}/payments"), json!({"amount": inv["total"]}));
        post(
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"lines": [{"product_id": "b", "quantity": 1}], "settle": "refund"}),
        );
        post(
            &format!("/v1/invoices/{id}/credit-notes"),
            json!({"extra": {"description": "Goodwill", "amount": 2_000, "tax_rate": "19"}, "settle": "credit_balance"}),
        );
        post("/v1/invoices", invoice_body());
        let voided = s.open(&invoice_body());
        post(
            &format!("/v1/invoices/{}/void", voided["id"].as_str().unwrap()),
            json!({}),
        );
        let db = &s.db;
        let tenant = s.tenant;
        let texts = |table, column| stored_texts(db, tenant, table, column);
        assert_eq!(texts("invoices", "status"), ["draft", "paid", "void"], "{}", s.backend);
        assert_eq!(texts("invoices", "collection_method"), ["automatic"]);
        assert_eq!(texts("invoice_lines", "status"), ["active", "cancelled"]);
        assert_eq!(texts("invoice_lines", "tax_category"), ["S"]);
        assert_eq!(texts("payments", "source"), ["external"]);
        assert_eq!(texts("refunds", "destination"), ["customer_balance", "original_method"]);
        assert_eq!(
            texts("credit_notes", "settlement"),
            ["credit_balance", "reduce_due", "refund"],
            "{}",
            s.backend
        );
        assert_eq!(texts("credit_note_lines", "tax_category"), ["S"]);
        assert_eq!(texts("balance_entries", "direction"), ["credit"]);
        assert_eq!(texts("idempotency_keys", "state"), ["done"]);

        // Every other value, written through the same mapping as the rows.
        use InvoiceStatus as S;
        sweep(
            db,
            tenant,
            "invoices",
            "status",
            &[
                (S::Draft, "draft"),
                (S::Open, "open"),
                (S::Uncollectible, "uncollectible"),
                (S::Paid, "paid"),
                (S::Cancelled, "cancelled"),
                (S::Void, "void"),
            ],
        );
        sweep(
            db,
            tenant,
            "invoices",
            "collection_method",
            &[
                (CollectionMethod::Automatic, "automatic"),
                (CollectionMethod::Manual, "manual"),
            ],
        );
        sweep(
            db,
            tenant,
            "invoice_lines",
            "status",
            &[(LineStatus::Active, "active"), (LineStatus::Cancelled, "cancelled")],
        );
        sweep(
            db,
            tenant,
            "invoice_lines",
            "kind",
            &[
                (LineKind::Physical, "physical"),
                (LineKind::Service, "service"),
                (LineKind::Digital, "digital"),
                (LineKind::Shipping, "shipping"),
            ],
        );
        let categories = [
            (TaxCategory::Standard, "S"),
            (TaxCategory::ZeroRated, "Z"),
            (TaxCategory::Exempt, "E"),
            (TaxCategory::ReverseCharge, "AE"),
            (TaxCategory::IntraCommunity, "K"),
            (TaxCategory::Export, "G"),
            (TaxCategory::OutsideScope, "O"),
        ];
        sweep(db, tenant, "invoice_lines", "tax_category", &categories);
        sweep(db, tenant, "credit_note_lines", "tax_category", &categories);
        sweep(
            db,
            tenant,
            "payments",
            "source",
            &[
                (PaymentSource::External, "external"),
                (PaymentSource::CustomerBalance, "customer_balance"),
            ],
        );
        sweep(
            db,
            tenant,
            "refunds",
            "destination",
            &[
                (RefundDestination::OriginalMethod, "original_method"),
                (RefundDestination::CustomerBalance, "customer_balance"),
            ],
        );
        sweep(
            db,
            tenant,
            "credit_notes",
            "settlement",
            &[
                (Settlement::ReduceDue, "reduce_due"),
                (Settlement::Refund, "refund"),
                (Settlement::CreditBalance, "credit_balance"),
            ],
        );
        sweep(
            db,
            tenant,
            "balance_entries",
            "direction",
            &[(BalanceDirection::Credit, "credit"), (BalanceDirection::Debit, "debit")],
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn an_unknown_stored_status_is_a_server_error_never_a_default() {
    for t in backends() {
        let s = TestServer::start(t);
        let tenant = s.tenant.get();
        let get = |id: &str| s.req("GET", &format!("/v1/invoices/{id}")).send();
        let assert_5xx = |r: &crate::http_support::Resp, what: &str| {
            assert!(
                (500..600).contains(&r.status),
                "{}: {what}: {} {}",
                s.backend,
                r.status,
                r.text
            );
            assert_eq!(r.header("content-type"), Some("application/problem+json"), "{what}");
            assert_eq!(r.code(), "internal_error", "{}: {what}", s.backend);
        };

        // In the table, read when the invoice has no current version row.
        let inv = s.open(&invoice_body());
        let id = inv["id"].as_str().unwrap();
        sql(
            &s.db,
            &format!(
                "UPDATE invoices SET status = 'archived' WHERE tenant_id = {tenant} AND id = '{id}'; \
                 DELETE FROM invoice_versions WHERE tenant_id = {tenant} AND invoice_id = '{id}' AND version = {}",
                inv["version"]
            ),
        );
        assert_5xx(&get(id), "an unknown status in the invoices table");

        // In the current version's document, which the one-statement read uses.
        let inv = s.open(&invoice_body());
        let id = inv["id"].as_str().unwrap();
        assert_eq!(get(id).json["status"], "open");
        sql(
            &s.db,
            &format!(
                "UPDATE invoice_versions SET body = REPLACE(body, '\"status\":\"open\"', '\"status\":\"archived\"') \
                 WHERE tenant_id = {tenant} AND invoice_id = '{id}'"
            ),
        );
        assert_5xx(&get(id), "an unknown status in the version document");

        // An unknown line status in the table, too.
        let inv = s.open(&invoice_body());
        let id = inv["id"].as_str().unwrap();
        sql(
            &s.db,
            &format!(
                "UPDATE invoice_lines SET status = 'gone' WHERE tenant_id = {tenant} AND invoice_id = '{id}'; \
                 DELETE FROM invoice_versions WHERE tenant_id = {tenant} AND invoice_id = '{id}' AND version = {}",
                inv["version"]
            ),
        );
        assert_5xx(&get(id), "an unknown line status");
    }
}
