//! Seeding: tenants, keys and number series through the admin code, one
//! template invoice written by the real store, then set-based copies of it.
//!
//! Copying a row the store itself wrote keeps every JSON column and
//! timestamp exactly as `rows.rs` writes them on either backend. Invoice `n`
//! gets a deterministic id (`invoice_id(n)`), number `INV-n` and tenant
//! `first + n % 10`, so the HTTP client and pgbench can both address it.

use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use invoice_adapters::inbound::http::auth;
use invoice_adapters::outbound::db::{admin, Database, DbConnection};
use invoice_domain::rules::Context;
use invoice_domain::{
    Actor, Clock, Currency, DocumentKind, Invoice, InvoiceRepository, NewInvoice, NewLine, NumberAllocator,
    NumberFormat, Party, RepositoryError, SeriesPrefix, SystemClock, TenantId, UuidV7,
};

/// Tenants the main invoice set is spread over.
pub const TENANTS: u64 = 10;
/// Lines per seeded invoice.
pub const LINES: usize = 5;
/// First `n` of the small listing tenant's invoices.
pub const LIST_SMALL_BASE: u64 = 50_000_000;
/// First `n` of the large listing tenant's invoices.
pub const LIST_LARGE_BASE: u64 = 60_000_000;
/// Invoices per set-based insert statement.
const CHUNK: u64 = 100_000;

/// The text id of invoice `n`: decimal digits are valid hex, so this is a
/// well-formed UUID (version 7) that SQL can compute from `n` too.
pub fn invoice_id(n: u64) -> String {
    format!("00000000-0000-7000-8000-{}", 100_000_000_000 + n)
}

/// The same id as an SQL expression of the integer expression `n`.
fn invoice_id_sql(n: &str) -> String {
    format!("'00000000-0000-7000-8000-' || CAST(100000000000 + {n} AS TEXT)")
}

/// The secret API key of a bench tenant (its SHA-256 is what is stored).
pub fn secret(slug: &str) -> String {
    format!("sk_bench_{slug}_0123456789abcdefghijklmnopqrstuv")
}

/// What seeding produced.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// Tenant id of invoice `n` is `first_tenant + n % TENANTS`.
    pub first_tenant: i64,
    /// Keys of the main tenants, by `n % TENANTS`.
    pub keys: Vec<String>,
    /// Main invoices are `1..=invoices`.
    pub invoices: u64,
    /// Listing tenants: (label, invoice count, key).
    pub listing: Vec<(String, u64, String)>,
    /// Seconds spent seeding.
    pub seconds: f64,
}

impl Seeded {
    /// The key for invoice `n` of the main set.
    pub fn key_for(&self, n: u64) -> &str {
        &self.keys[(n % TENANTS) as usize]
    }

    /// The tenant id of invoice `n` of the main set.
    pub fn tenant_of(&self, n: u64) -> i64 {
        self.first_tenant + (n % TENANTS) as i64
    }
}

fn repo(e: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Other(e.to_string())
}

/// Creates a tenant with one all-scope key; returns (tenant id, secret).
fn tenant_with_key(db: &Database, slug: &str) -> Result<(i64, String), RepositoryError> {
    let secret = secret(slug);
    let hash = auth::hash_key(&secret);
    let id = db.write_conn(|c| {
        let t = admin::create_tenant(c, slug, slug)?;
        admin::insert_api_key(
            c,
            admin::NewApiKey {
                tenant_id: t.id,
                id: &format!("key_{slug}"),
                key_hash: &hash,
                scopes: &auth::ALL_SCOPES.join(","),
                party_id: None,
                expires_at: None,
            },
        )?;
        Ok::<_, RepositoryError>(t.id)
    })?;
    Ok((id, secret))
}

/// Writes the template: a 5-line invoice, created and finalized by the domain
/// rules and saved by the real store, exactly like the API would.
fn template(db: &Database, tenant: TenantId) -> Result<String, RepositoryError> {
    let ids = UuidV7;
    let actor = Actor::new("key_bench-template", "v1");
    let ctx = Context {
        now: SystemClock.now(),
        actor: &actor,
        ids: &ids,
    };
    let party = |id: &str, name: &str, email: Option<&str>, tax: Option<&str>| Party::parse(id, name, email, tax, None);
    let lines = (0..LINES)
        .map(|k| {
            let k64 = i64::try_from(k).map_err(repo)?;
            NewLine::builder(&format!("Freight leg {k}"))
                .product_id(&format!("p{k}"))
                .quantity(k64 + 1)
                .unit_amount(12_345 + 1_000 * k64)
                .tax_rate("19")
                .build()
                .map_err(repo)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let new = NewInvoice::builder(
        Currency::parse("EUR").map_err(repo)?,
        party("cust-1", "ACME GmbH", Some("ap@acme.example"), Some("DE811907980")).map_err(repo)?,
    )
    .issuer(party("trp-001", "ABC Transport Ltd", None, None).map_err(repo)?)
    .lines(lines)
    .due_date(chrono::NaiveDate::from_ymd_opt(2026, 12, 31).ok_or_else(|| repo("bad date"))?)
    .external_reference("SUP-2026-118")
    .metadata([("loadCount".to_string(), "3".to_string())].into())
    .build()
    .map_err(repo)?;
    db.write(|store| {
        let serial = store.next_serial(tenant)?;
        let draft = Invoice::create_draft(tenant, serial, new, ctx);
        store.save(&draft)?;
        let open = draft
            .invoice
            .finalize(ctx, || {
                let slot = NumberFormat::default().slot(&SeriesPrefix::invoices(), ctx.now.date_naive());
                let sequence = store.next_number(tenant, DocumentKind::Invoice, &slot.counter())?;
                slot.number(sequence).map_err(repo)
            })
            .map_err(|e| repo(format!("{e:?}")))?;
        store.save(&open)?;
        Ok(open.invoice.id.to_string())
    })
}

#[derive(QueryableByName)]
struct ColumnName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// The columns of `table`, in order, read from the catalog.
fn columns(conn: &mut DbConnection, table: &str) -> Result<Vec<String>, RepositoryError> {
    let sql = match conn {
        DbConnection::Pg(_) => format!(
            "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
        ),
        DbConnection::Sqlite(_) => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
    };
    let rows: Vec<ColumnName> = diesel::sql_query(sql).load(conn).map_err(repo)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// `INSERT … SELECT` copying the template rows of `table` once per `n` in
/// `lo..=hi`, with `overrides` (column → SQL over `t.*` and `s.n`).
fn copy_sql(
    conn: &DbConnection,
    table: &str,
    cols: &[String],
    overrides: &[(&str, String)],
    filter: &str,
    lo: u64,
    hi: u64,
) -> String {
    let names = cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    let exprs = cols
        .iter()
        .map(|c| {
            overrides
                .iter()
                .find(|(name, _)| name == c)
                .map_or_else(|| format!("t.\"{c}\""), |(_, e)| e.clone())
        })
        .collect::<Vec<_>>()
        .join(", ");
    match conn {
        DbConnection::Pg(_) => format!(
            "INSERT INTO {table} ({names}) SELECT {exprs} FROM {table} t \
             CROSS JOIN generate_series({lo}, {hi}) AS s(n) WHERE {filter}"
        ),
        DbConnection::Sqlite(_) => format!(
            "WITH RECURSIVE s(n) AS (SELECT {lo} UNION ALL SELECT n + 1 FROM s WHERE n < {hi}) \
             INSERT INTO {table} ({names}) SELECT {exprs} FROM {table} t CROSS JOIN s WHERE {filter}"
        ),
    }
}

/// Copies the template invoice (and its lines) to invoices `lo..=hi`, with
/// tenant `tenant_sql` (an SQL expression of `s.n`).
fn copy_range(db: &Database, template: (i64, &str), tenant_sql: &str, lo: u64, hi: u64) -> Result<(), RepositoryError> {
    let (tt, tid) = template;
    let filter = format!("t.tenant_id = {tt} AND t.\"id\" = '{tid}'");
    let line_filter = format!("t.tenant_id = {tt} AND t.invoice_id = '{tid}'");
    let mut start = lo;
    while start <= hi {
        let end = (start + CHUNK - 1).min(hi);
        db.write_conn(|c| {
            let inv_cols = columns(c, "invoices")?;
            let line_cols = columns(c, "invoice_lines")?;
            let inv = copy_sql(
                c,
                "invoices",
                &inv_cols,
                &[
                    ("tenant_id", tenant_sql.to_string()),
                    ("id", invoice_id_sql("s.n")),
                    ("number_seq", "s.n".into()),
                    ("serial", "s.n".into()),
                    (
                        "number",
                        match c {
                            DbConnection::Pg(_) => "'INV-' || lpad(CAST(s.n AS TEXT), 6, '0')".into(),
                            DbConnection::Sqlite(_) => "printf('INV-%06d', s.n)".into(),
                        },
                    ),
                    ("external_reference", "'SUP-' || CAST(s.n AS TEXT)".into()),
                ],
                &filter,
                start,
                end,
            );
            let lines = copy_sql(
                c,
                "invoice_lines",
                &line_cols,
                &[
                    ("tenant_id", tenant_sql.to_string()),
                    ("invoice_id", invoice_id_sql("s.n")),
                    (
                        "id",
                        "'00000000-0000-7000-8001-' || CAST(100000000000 + s.n * 10 + t.\"position\" AS TEXT)".into(),
                    ),
                ],
                &line_filter,
                start,
                end,
            );
            c.batch_execute(&inv).map_err(repo)?;
            c.batch_execute(&lines).map_err(repo)?;
            Ok::<_, RepositoryError>(())
        })?;
        start = end + 1;
    }
    Ok(())
}

/// Sets a tenant's counters: invoice numbers and serials continue after
/// `last_invoice`, credit notes start at 1 (default formats).
fn number_series(db: &Database, tenant: i64, last_invoice: u64) -> Result<(), RepositoryError> {
    let sql = format!(
        "DELETE FROM number_series WHERE tenant_id = {tenant}; \
         INSERT INTO number_series (tenant_id, kind, counter, next_value) VALUES \
         ({tenant}, '{ik}', '{is}-{{SEQ}}', {next}), ({tenant}, '{ck}', '{cs}-{{SEQ}}', 1), \
         ({tenant}, 'invoice_serial', '', {next})",
        ik = DocumentKind::Invoice.as_str(),
        is = SeriesPrefix::invoices().as_str(),
        ck = DocumentKind::CreditNote.as_str(),
        cs = SeriesPrefix::credit_notes().as_str(),
        next = last_invoice + 1,
    );
    db.write_conn(|c| c.batch_execute(&sql).map_err(repo))
}

/// Seeds `invoices` open invoices over [`TENANTS`] tenants, plus one tenant
/// per entry of `listing` (label, size) for the listing benchmark.
pub fn seed(db: &Database, invoices: u64, listing: &[(&str, u64, u64)]) -> Result<Seeded, RepositoryError> {
    let started = Instant::now();
    let mut keys = Vec::new();
    let mut first_tenant = 0;
    for i in 0..TENANTS {
        let (id, key) = tenant_with_key(db, &format!("bench-{i}"))?;
        if i == 0 {
            first_tenant = id;
        } else if id != first_tenant + i as i64 {
            return Err(repo("bench tenant ids are not consecutive"));
        }
        keys.push(key);
    }
    let (tt, _) = tenant_with_key(db, "bench-template")?;
    let tid = template(db, TenantId::new(tt))?;
    copy_range(
        db,
        (tt, &tid),
        &format!("{first_tenant} + s.n % {TENANTS}"),
        1,
        invoices,
    )?;
    for i in 0..TENANTS {
        number_series(db, first_tenant + i as i64, invoices)?;
    }
    let mut lists = Vec::new();
    for (label, base, size) in listing {
        let (id, key) = tenant_with_key(db, &format!("list-{label}"))?;
        copy_range(db, (tt, &tid), &id.to_string(), base + 1, base + size)?;
        number_series(db, id, base + size)?;
        lists.push((label.to_string(), *size, key));
    }
    Ok(Seeded {
        first_tenant,
        keys,
        invoices,
        listing: lists,
        seconds: started.elapsed().as_secs_f64(),
    })
}
