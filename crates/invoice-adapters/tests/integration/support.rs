//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use invoice_adapters::outbound::db::{admin, Database, PoolConfig};
use invoice_adapters::testkit::{self, PgCluster};
use invoice_domain::*;

/// A database for one test, dropped (or left to the cluster's cleanup) after it.
pub struct TestDb {
    pub db: Database,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Wraps a database the test opened itself.
    pub fn wrap(db: Database, backend: &'static str) -> Self {
        TestDb {
            db,
            backend,
            _dir: None,
        }
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn config() -> PoolConfig {
    PoolConfig {
        max_size: 12,
        connection_timeout: std::time::Duration::from_secs(30),
        ..PoolConfig::default()
    }
}

/// A fresh, migrated SQLite database in a temp dir.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let db = Database::open(&format!("sqlite://{}", path.display()), config()).expect("open sqlite");
    TestDb {
        db,
        backend: "sqlite",
        _dir: Some(dir),
    }
}

fn template(cluster: &'static PgCluster) -> &'static str {
    static TEMPLATE: OnceLock<()> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        cluster
            .create_database("storno_template", None)
            .expect("create template");
        Database::open(&cluster.url("storno_template"), config()).expect("migrate template");
    });
    "storno_template"
}

/// A fresh PostgreSQL database copied from a migrated template.
///
/// Without PostgreSQL this panics rather than letting a test pass on
/// SQLite alone: a test that needs PostgreSQL carries
/// `#[cfg_attr(postgres_missing, ignore = "SKIPPED: …")]` (the build script
/// sets `postgres_missing`), so where it is not installed the test is
/// reported as ignored, and under `INVOICE_REQUIRE_POSTGRES=1` it fails.
pub fn postgres() -> TestDb {
    let Some(cluster) = testkit::shared() else {
        panic!(
            "SKIPPED is not a pass: PostgreSQL (initdb, pg_ctl) is not installed and this test needs it; \
             it must carry #[cfg_attr(postgres_missing, ignore = \"SKIPPED: …\")]"
        );
    };
    let template = template(cluster);
    let name = format!("t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    cluster
        .create_database(&name, Some(template))
        .expect("create test database");
    let db = Database::open(&cluster.url(&name), config()).expect("open postgres");
    TestDb {
        db,
        backend: "postgres",
        _dir: None,
    }
}

/// Like [`backends`], each with the URL to open the same database again
/// (a restart of the server process).
pub fn reopenable() -> Vec<(TestDb, String)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let db = Database::open(&url, config()).expect("open sqlite");
    let mut all = vec![(
        TestDb {
            db,
            backend: "sqlite",
            _dir: Some(dir),
        },
        url,
    )];
    if let Some(cluster) = testkit::shared() {
        let template = template(cluster);
        let name = format!("t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        cluster
            .create_database(&name, Some(template))
            .expect("create test database");
        let url = cluster.url(&name);
        let db = Database::open(&url, config()).expect("open postgres");
        all.push((
            TestDb {
                db,
                backend: "postgres",
                _dir: None,
            },
            url,
        ));
    }
    all
}

/// Opens `url` again, as a restarted process would.
pub fn reopen(url: &str) -> Database {
    Database::open(url, config()).expect("reopen")
}

/// Both backends, SQLite and PostgreSQL; never SQLite alone (see [`postgres`]).
pub fn backends() -> Vec<TestDb> {
    vec![sqlite(), postgres()]
}

/// Creates a tenant and returns its id.
pub fn tenant(db: &Database, slug: &str) -> TenantId {
    let row = db
        .write_conn(|c| admin::create_tenant(c, slug, slug))
        .expect("create tenant");
    TenantId::new(row.id)
}

pub type Service = InvoiceService<SystemClock, UuidV7>;

pub fn service() -> Service {
    InvoiceService::new(SystemClock, UuidV7)
}

pub fn actor() -> Actor {
    Actor::new("key_test", "test")
}

/// Makes each test invoice's external reference unique, as the tenant requires.
static NEXT_REFERENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A draft request with the given (product, quantity, unit, rate) lines.
pub fn new_invoice(lines: &[(&str, i64, i64, &str)]) -> NewInvoice {
    NewInvoice::builder(
        Currency::parse("EUR").unwrap(),
        Party::parse(
            "cust-1",
            "Customer GmbH",
            Some("ap@customer.example"),
            Some("DE999"),
            Some("Main St 1"),
        )
        .unwrap(),
    )
    .issuer(Party::parse("trp-1", "Transporter Ltd", None, None, None).unwrap())
    .lines(lines.iter().map(|(p, q, u, r)| line(p, *q, *u, r)))
    .external_reference(&format!(
        "SUP-{}",
        NEXT_REFERENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ))
    .metadata([("loadCount".to_string(), "3".to_string())].into_iter().collect())
    .build()
    .unwrap()
}

/// A line of product `p`: `q` units of `u` minor units at `rate` percent.
pub fn line(p: &str, q: i64, u: i64, rate: &str) -> NewLine {
    NewLine::builder(&format!("item {p}"))
        .product_id(p)
        .quantity(q)
        .unit_amount(u)
        .tax_rate(rate)
        .build()
        .unwrap()
}

/// Creates a draft in `tenant`.
pub fn create(db: &Database, tenant: TenantId, lines: &[(&str, i64, i64, &str)]) -> Invoice {
    let scope = Scope::tenant(tenant);
    db.write(|s| service().create_draft(s, &scope, &actor(), new_invoice(lines)))
        .expect("create draft")
        .invoice
}

/// Runs a transition on invoice `id` of `tenant`.
pub fn act<F>(db: &Database, tenant: TenantId, id: InvoiceId, f: F) -> Result<Transition, UseCaseError>
where
    F: FnOnce(
        &Service,
        &mut invoice_adapters::outbound::db::DieselStore<'_>,
        &Target<'_>,
    ) -> Result<Transition, UseCaseError>,
{
    let scope = Scope::tenant(tenant);
    let reference = InvoiceRef::Id(id);
    let actor = actor();
    let target = Target {
        scope: &scope,
        reference: &reference,
        actor: &actor,
        expected_version: None,
    };
    db.write(|s| f(&service(), s, &target))
}

/// Creates and finalizes an invoice.
pub fn open(db: &Database, tenant: TenantId, lines: &[(&str, i64, i64, &str)]) -> Invoice {
    let d = create(db, tenant, lines);
    act(db, tenant, d.id, |svc, s, t| svc.finalize(s, t))
        .expect("finalize")
        .invoice
}

/// Loads an invoice.
pub fn get(db: &Database, tenant: TenantId, id: InvoiceId) -> Result<Invoice, UseCaseError> {
    db.read(|s| service().get(s, &Scope::tenant(tenant), &InvoiceRef::Id(id)))
}
