//! Connections, pools, migrations and the transaction boundary.

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, Pool, PooledConnection};
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use invoice_domain::RepositoryError;

/// Migrations for PostgreSQL, embedded at build time.
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
/// Migrations for SQLite, embedded at build time.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Advisory lock key held while migrating PostgreSQL ("StornoM1" in ASCII).
const MIGRATION_LOCK: i64 = 0x5374_6f72_6e6f_4d31;

/// Migration versions: applied, pending, and applied but unknown to this
/// build (the database was migrated by a newer release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Versions the database has applied, oldest first.
    pub applied: Vec<String>,
    /// Versions this build has that the database has not applied.
    pub pending: Vec<String>,
    /// Versions the database has applied that this build does not know.
    pub unknown: Vec<String>,
}

#[derive(QueryableByName)]
struct LockTaken {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    taken: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

#[derive(QueryableByName)]
struct TlsRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    version: Option<String>,
}

/// One connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// A PostgreSQL connection.
    Pg(PgConnection),
    /// A SQLite connection.
    Sqlite(SqliteConnection),
}

/// Runs a statement that MultiConnection cannot express (multi-row inserts,
/// `ON CONFLICT DO NOTHING`) on the concrete connection inside, written once
/// for both variants.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::outbound::db::DbConnection::Pg($c) => $body,
            $crate::outbound::db::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Which database a URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A `postgres://` URL, passed to libpq as-is.
    Postgres(String),
    /// A SQLite file path (from `sqlite://PATH` or a bare path).
    Sqlite(String),
}

impl Backend {
    /// Reads `postgres://…`, `postgresql://…`, `sqlite://PATH`, `sqlite:PATH` or a bare path.
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(DbError::Config(format!("unsupported database URL: {url}")));
        }
        Ok(Backend::Sqlite(path.to_string()))
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Postgres(_) => "postgres",
            Backend::Sqlite(_) => "sqlite",
        }
    }

    fn connect(&self) -> diesel::ConnectionResult<DbConnection> {
        match self {
            Backend::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            Backend::Sqlite(path) => SqliteConnection::establish(path).map(DbConnection::Sqlite),
        }
    }
}

/// Errors opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The configuration is unusable.
    #[error("database configuration: {0}")]
    Config(String),
    /// The pool could not be built or a connection could not be made.
    #[error("database connection: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("database migration: {0}")]
    Migration(String),
    /// A query failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Opens connections of one [`Backend`] for r2d2.
#[derive(Debug, Clone)]
struct Manager(Backend);

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.0.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken()
    }
}

/// Applies the per-connection SQLite settings every time r2d2 opens one.
#[derive(Debug, Clone, Copy)]
struct SqliteSettings {
    busy_timeout_ms: u64,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for SqliteSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON;",
                self.busy_timeout_ms
            ))
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Creates the SQLite file at `path` with mode 0600 before SQLite opens it,
/// since SQLite would create it 0644 (under the usual umask) and it holds
/// webhook secrets and customer data; SQLite gives its `-wal` and `-shm`
/// files the mode of the database file. An existing file keeps its mode (an
/// operator may have chosen it), with a warning when others may read it.
/// Special names (`:memory:`, `file:` URIs) are left to SQLite, and so is
/// any failure here: SQLite then reports it when it opens the file.
pub fn create_private_file(path: &str) {
    if path.starts_with(':') || path.starts_with("file:") {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if let Ok(meta) = std::fs::metadata(path) {
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        tracing::warn!(
                            path,
                            mode = format!("{mode:o}"),
                            "the SQLite database file may be read by other users; consider chmod 600"
                        );
                    }
                }
            }
            Err(_) => {}
        }
    }
}

/// Pool sizes and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Most connections for reads (and, on PostgreSQL, for writes too).
    pub max_size: u32,
    /// How long a request waits for a connection before failing with 503.
    pub connection_timeout: Duration,
    /// SQLite only: how many queued writes may share one transaction, each
    /// in its own savepoint (1: every write commits alone). See
    /// [`Database::write`].
    pub write_batch: usize,
}

/// The default of [`PoolConfig::write_batch`].
pub const DEFAULT_WRITE_BATCH: usize = 64;

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 8,
            connection_timeout: Duration::from_secs(2),
            write_batch: DEFAULT_WRITE_BATCH,
        }
    }
}

type DbPool = Pool<Manager>;
/// A connection checked out of a pool.
type PooledConn = PooledConnection<Manager>;

/// Runs schema changes on SQLite with foreign-key enforcement off: a
/// migration that rebuilds a table others reference (SQLite cannot alter
/// constraints in place) must drop it first. `work` checks the references
/// itself before committing ([`check_foreign_keys`]). The pragma is a no-op
/// inside a transaction, so it is set around it, and set back whatever happened.
fn with_foreign_keys_deferred<T>(
    c: &mut SqliteConnection,
    work: impl FnOnce(&mut SqliteConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let query = |e: diesel::result::Error| DbError::Migration(e.to_string());
    diesel::sql_query("PRAGMA foreign_keys = OFF")
        .execute(c)
        .map_err(query)?;
    let result = work(c);
    diesel::sql_query("PRAGMA foreign_keys = ON")
        .execute(c)
        .map_err(query)?;
    result
}

/// Fails when any row references a missing one.
fn check_foreign_keys(c: &mut SqliteConnection) -> Result<(), DbError> {
    let broken: Vec<ForeignKeyProblem> = diesel::sql_query("PRAGMA foreign_key_check")
        .load(c)
        .map_err(|e| DbError::Migration(e.to_string()))?;
    match broken.first() {
        None => Ok(()),
        Some(p) => Err(DbError::Migration(format!(
            "{} rows of {} would reference missing rows",
            broken.len(),
            p.table
        ))),
    }
}

/// One row of `PRAGMA foreign_key_check`: a row referencing a missing one.
#[derive(QueryableByName)]
struct ForeignKeyProblem {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table: String,
}

/// The database: pools, migrations and transactions.
///
/// On PostgreSQL reads and writes share one pool. On SQLite writes go through
/// a pool of exactly one connection, so writers queue in the process instead
/// of meeting `SQLITE_BUSY`, while reads use the larger pool (WAL lets them
/// run beside the writer).
#[derive(Clone)]
pub struct Database {
    backend: Backend,
    read: DbPool,
    write: DbPool,
    /// SQLite: the group commit of writes (see [`Database::write`]).
    batcher: Option<Arc<Batcher>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend.name())
            .finish()
    }
}

impl Database {
    /// Opens pools for `url` and runs pending migrations.
    pub fn open(url: &str, config: PoolConfig) -> Result<Self, DbError> {
        let db = Self::connect(url, config)?;
        db.migrate()?;
        Ok(db)
    }

    /// Opens pools for `url` without migrating. A SQLite file that does not
    /// exist yet is created readable by its owner only (see
    /// [`create_private_file`]).
    pub fn connect(url: &str, config: PoolConfig) -> Result<Self, DbError> {
        let backend = Backend::from_url(url)?;
        if let Backend::Sqlite(path) = &backend {
            create_private_file(path);
        }
        let build = |size: u32| {
            let mut builder = Pool::builder()
                .max_size(size.max(1))
                .min_idle(Some(0))
                .connection_timeout(config.connection_timeout)
                .test_on_check_out(false);
            if matches!(backend, Backend::Sqlite(_)) {
                builder = builder.connection_customizer(Box::new(SqliteSettings {
                    busy_timeout_ms: u64::try_from(config.connection_timeout.as_millis()).unwrap_or(u64::MAX),
                }));
            }
            builder
                .build(Manager(backend.clone()))
                .map_err(|e| DbError::Connect(e.to_string()))
        };
        let read = build(config.max_size)?;
        let (write, batcher) = match backend {
            Backend::Postgres(_) => (read.clone(), None),
            Backend::Sqlite(_) => (
                build(1)?,
                Some(Arc::new(Batcher::new(config.write_batch, config.connection_timeout))),
            ),
        };
        Ok(Database {
            backend,
            read,
            write,
            batcher,
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Runs every pending migration.
    ///
    /// Several instances may start at once on one database. On PostgreSQL
    /// the migrations run under a session advisory lock, so one instance
    /// migrates while the others wait and then find nothing left to do. On
    /// SQLite they run inside one `BEGIN IMMEDIATE` transaction, which other
    /// processes wait for through the busy timeout.
    pub fn migrate(&self) -> Result<(), DbError> {
        let mut conn = self.write.get().map_err(|e| DbError::Connect(e.to_string()))?;
        let migration = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
        let query = |e: diesel::result::Error| DbError::Migration(e.to_string());
        match &mut *conn {
            DbConnection::Pg(c) => {
                let free: LockTaken = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
                    .bind::<BigInt, _>(MIGRATION_LOCK)
                    .get_result(c)
                    .map_err(query)?;
                if !free.taken {
                    tracing::info!("another instance is migrating the database; waiting for it");
                    diesel::sql_query("SELECT pg_advisory_lock($1)")
                        .bind::<BigInt, _>(MIGRATION_LOCK)
                        .execute(c)
                        .map_err(query)?;
                }
                let result = c.run_pending_migrations(PG_MIGRATIONS).map(|_| ());
                // A failed unlock means a broken connection, whose session
                // (and lock) the server has already ended.
                let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
                    .bind::<BigInt, _>(MIGRATION_LOCK)
                    .execute(c);
                result.map_err(migration)
            }
            DbConnection::Sqlite(c) => with_foreign_keys_deferred(c, |c| {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(query)?;
                let migrated = c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop).map_err(migration);
                let result = migrated.and_then(|()| check_foreign_keys(c));
                match result {
                    Ok(()) => AnsiTransactionManager::commit_transaction(c).map_err(query),
                    Err(e) => {
                        let _ = AnsiTransactionManager::rollback_transaction(c);
                        Err(e)
                    }
                }
            }),
        }
    }

    /// Which embedded migrations the database has applied and which are
    /// pending, read without changing anything (a database never migrated
    /// has them all pending).
    pub fn migration_status(&self) -> Result<MigrationStatus, DbError> {
        let mut conn = self.read.get().map_err(|e| DbError::Connect(e.to_string()))?;
        let (known, exists_sql) = match &*conn {
            DbConnection::Pg(_) => (
                MigrationSource::<diesel::pg::Pg>::migrations(&PG_MIGRATIONS)
                    .map(|all| all.iter().map(|m| m.name().version().to_string()).collect::<Vec<_>>()),
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '__diesel_schema_migrations'",
            ),
            DbConnection::Sqlite(_) => (
                MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                    .map(|all| all.iter().map(|m| m.name().version().to_string()).collect::<Vec<_>>()),
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
            ),
        };
        let known = known.map_err(|e| DbError::Migration(e.to_string()))?;
        let query = |e: diesel::result::Error| DbError::Connect(e.to_string());
        let table: Count = diesel::sql_query(exists_sql).get_result(&mut *conn).map_err(query)?;
        let applied: Vec<String> = if table.n > 0 {
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
                .load::<Version>(&mut *conn)
                .map_err(query)?
                .into_iter()
                .map(|v| v.version)
                .collect()
        } else {
            Vec::new()
        };
        Ok(MigrationStatus {
            pending: known.iter().filter(|k| !applied.contains(k)).cloned().collect(),
            unknown: applied.iter().filter(|a| !known.contains(a)).cloned().collect(),
            applied,
        })
    }

    /// On PostgreSQL, whether this process's connections use TLS, and which
    /// version (`Some("TLSv1.3")`); `None` on SQLite or without TLS.
    pub fn tls_version(&self) -> Result<Option<String>, RepositoryError> {
        let mut conn = self.checkout(&self.read)?;
        if let DbConnection::Sqlite(_) = &*conn {
            return Ok(None);
        }
        let row: Option<TlsRow> =
            diesel::sql_query("SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")
                .get_result(&mut *conn)
                .optional()
                .map_err(super::repository_error)?;
        Ok(row.and_then(|r| r.version))
    }

    /// Reverts the `count` most recent migrations (used by the tests that
    /// prove a migration carries existing rows over).
    pub fn revert_last(&self, count: usize) -> Result<(), DbError> {
        let mut conn = self.write.get().map_err(|e| DbError::Connect(e.to_string()))?;
        for _ in 0..count {
            let result = match &mut *conn {
                DbConnection::Pg(c) => c.revert_last_migration(PG_MIGRATIONS).map(|_| ()),
                DbConnection::Sqlite(c) => {
                    with_foreign_keys_deferred(c, |c| {
                        c.revert_last_migration(SQLITE_MIGRATIONS)
                            .map_err(|e| DbError::Migration(e.to_string()))?;
                        check_foreign_keys(c)
                    })?;
                    Ok(())
                }
            };
            result.map_err(|e| DbError::Migration(e.to_string()))?;
        }
        Ok(())
    }

    /// Reverts every migration (used by the migration round-trip test).
    pub fn revert_all(&self) -> Result<(), DbError> {
        let mut conn = self.write.get().map_err(|e| DbError::Connect(e.to_string()))?;
        let result = match &mut *conn {
            DbConnection::Pg(c) => c.revert_all_migrations(PG_MIGRATIONS).map(|_| ()),
            DbConnection::Sqlite(c) => {
                return with_foreign_keys_deferred(c, |c| {
                    c.revert_all_migrations(SQLITE_MIGRATIONS)
                        .map_err(|e| DbError::Migration(e.to_string()))?;
                    check_foreign_keys(c)
                })
            }
        };
        result.map_err(|e| DbError::Migration(e.to_string()))
    }

    /// SQLite: how many write transactions were committed since the
    /// database was opened, and how many writes they held (see
    /// [`Database::write`]); `None` on PostgreSQL, where each write is its
    /// own transaction.
    pub fn write_batches(&self) -> Option<(u64, u64)> {
        self.batcher
            .as_ref()
            .map(|b| (b.commits.load(Ordering::Relaxed), b.writes.load(Ordering::Relaxed)))
    }

    /// Pool state for metrics: (connections, idle) of the read pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.read.state();
        (s.connections, s.idle_connections)
    }

    /// Checks the database answers.
    pub fn ping(&self) -> Result<(), RepositoryError> {
        let mut conn = self.checkout(&self.read)?;
        conn.batch_execute("SELECT 1").map_err(super::repository_error)
    }

    fn checkout(&self, pool: &DbPool) -> Result<PooledConn, RepositoryError> {
        pool.get()
            .map_err(|e| RepositoryError::Unavailable(format!("no database connection: {e}")))
    }

    /// Runs `work` on a raw connection in a write transaction (admin tasks,
    /// idempotency records, the outbox); on SQLite in a savepoint of a
    /// batch, like `Database::write`.
    pub fn write_conn<T, E>(&self, work: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<RepositoryError>,
    {
        if let Some(b) = &self.batcher {
            return b.run(&self.write, work);
        }
        let mut conn = self.checkout(&self.write)?;
        in_transaction(&mut conn, true, work)
    }

    /// Runs `work` on a raw read connection, outside any explicit transaction.
    pub fn read_conn<T, E>(&self, work: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<RepositoryError>,
    {
        let mut conn = self.checkout(&self.read)?;
        work(&mut conn)
    }
}

/// The group commit of SQLite writes: one transaction open on the single
/// write connection, shared by the writes queued behind each other.
struct Batcher {
    /// At most this many writes per transaction.
    max: usize,
    /// How long a writer waits for its turn before it gives up with
    /// `Unavailable` (a 503 the client may retry), as it would waiting for a
    /// pooled connection: an overloaded writer must shed load, not queue
    /// requests without bound.
    wait: Duration,
    /// Writers that have asked for the connection and not yet got it.
    waiting: AtomicUsize,
    state: parking_lot::Mutex<BatchState>,
    /// Transactions committed, and the writes they held.
    commits: AtomicU64,
    writes: AtomicU64,
}

thread_local! {
    /// True while this thread is inside a batched write: a write started
    /// from inside another would wait for itself.
    static IN_WRITE: Cell<bool> = const { Cell::new(false) };
}

/// Clears [`IN_WRITE`] when the write ends, also by a panic.
struct InWrite;

impl Drop for InWrite {
    fn drop(&mut self) {
        IN_WRITE.with(|w| w.set(false));
    }
}

#[derive(Default)]
struct BatchState {
    /// The write connection while a batch is open, in its transaction.
    conn: Option<PooledConn>,
    /// The open batch, which its members wait on.
    batch: Option<Arc<Batch>>,
    /// Writes that joined the open batch.
    members: usize,
    /// A savepoint could not be released or rolled back to: the batch's
    /// state is unknown, so it is rolled back whole instead of committed.
    broken: bool,
}

/// One transaction's outcome, for its members to wait on.
#[derive(Default)]
struct Batch {
    outcome: Mutex<Option<Result<(), RepositoryError>>>,
    done: Condvar,
}

impl Batch {
    fn finish(&self, outcome: Result<(), RepositoryError>) {
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        self.done.notify_all();
    }

    fn wait(&self) -> Result<(), RepositoryError> {
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(o) = outcome.as_ref() {
                return o.clone();
            }
            outcome = self.done.wait(outcome).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Batcher {
    fn new(max: usize, wait: Duration) -> Self {
        Batcher {
            max: max.max(1),
            wait,
            waiting: AtomicUsize::new(0),
            state: parking_lot::Mutex::new(BatchState::default()),
            commits: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        }
    }

    /// Runs `work` in a savepoint of the open batch (opening one, with
    /// `BEGIN IMMEDIATE`, when none is), commits the batch if this is its
    /// last write, and returns `work`'s result once the batch committed.
    fn run<T, E>(&self, pool: &DbPool, work: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<RepositoryError>,
    {
        if IN_WRITE.with(|w| w.replace(true)) {
            return Err(E::from(RepositoryError::Other(
                "a write was started inside another write on the same thread".into(),
            )));
        }
        let _in_write = InWrite;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let turn = self.state.try_lock_for(self.wait);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let Some(mut st) = turn else {
            return Err(E::from(RepositoryError::Unavailable(format!(
                "the database writer stayed busy for {} ms",
                self.wait.as_millis()
            ))));
        };
        if st.batch.is_none() {
            if let Err(e) = Self::open(pool, &mut st) {
                return Err(E::from(e));
            }
        }
        let (Some(batch), Some(conn)) = (st.batch.clone(), st.conn.as_mut()) else {
            return Err(E::from(RepositoryError::Other(
                "the write batch has no connection".into(),
            )));
        };
        let (result, broken) = Self::savepoint(conn, work);
        st.members += 1;
        st.broken |= broken;
        if st.broken || st.members >= self.max || self.waiting.load(Ordering::SeqCst) == 0 {
            self.close(&mut st);
        }
        drop(st);
        let committed = batch.wait();
        match result {
            Err(panic) => resume_unwind(panic),
            Ok(Ok(value)) => committed.map(|()| value).map_err(E::from),
            Ok(Err(Step::Work(e))) => match committed {
                // A refusal may rest on what earlier members of the batch
                // wrote; if they were not stored, neither is its answer.
                Ok(()) => Err(e),
                Err(c) => Err(E::from(c)),
            },
            Ok(Err(Step::Broken(e))) => Err(E::from(e)),
        }
    }

    fn open(pool: &DbPool, st: &mut BatchState) -> Result<(), RepositoryError> {
        let mut conn = pool
            .get()
            .map_err(|e| RepositoryError::Unavailable(format!("no database connection: {e}")))?;
        if let DbConnection::Sqlite(c) = &mut *conn {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(super::repository_error)?;
        }
        st.conn = Some(conn);
        st.batch = Some(Arc::new(Batch::default()));
        st.members = 0;
        st.broken = false;
        Ok(())
    }

    /// `work` in a savepoint. The result is `Err` only for a panic, to
    /// rethrow once the batch is dealt with; the flag is true when the
    /// savepoint could not be opened, released or rolled back to, so the
    /// transaction's state is unknown.
    fn savepoint<T, E>(
        conn: &mut DbConnection,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> (Stepped<T, E>, bool)
    where
        E: From<RepositoryError>,
    {
        if let Err(e) = DbConnection::begin_transaction(conn) {
            return (Ok(Err(Step::Broken(super::repository_error(e)))), true);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| work(&mut *conn)));
        let undo = |conn: &mut DbConnection| DbConnection::rollback_transaction(conn).map_err(super::repository_error);
        match outcome {
            Ok(Ok(value)) => match DbConnection::commit_transaction(conn) {
                Ok(()) => (Ok(Ok(value)), false),
                Err(e) => {
                    let e = super::repository_error(e);
                    (Ok(Err(Step::Broken(undo(conn).err().unwrap_or(e)))), true)
                }
            },
            Ok(Err(e)) => match undo(conn) {
                Ok(()) => (Ok(Err(Step::Work(e))), false),
                Err(broken) => (Ok(Err(Step::Broken(broken))), true),
            },
            // Rolled back to the savepoint, the neighbours stay; if even
            // that failed, the batch is rolled back whole.
            Err(panic) => {
                let broken = undo(conn).is_err();
                (Err(panic), broken)
            }
        }
    }

    /// Commits the open batch (or rolls it back whole when broken), gives
    /// the connection back and tells the members.
    fn close(&self, st: &mut BatchState) {
        let (Some(mut conn), Some(batch)) = (st.conn.take(), st.batch.take()) else {
            return;
        };
        let outcome = if st.broken {
            let _ = DbConnection::rollback_transaction(&mut conn);
            Err(RepositoryError::Unavailable(
                "a write of the batch left the transaction in an unknown state; nothing was stored".into(),
            ))
        } else {
            DbConnection::commit_transaction(&mut conn).map_err(|e| {
                // A failed rollback leaves the connection broken; r2d2 then drops it.
                let _ = DbConnection::rollback_transaction(&mut conn);
                super::repository_error(e)
            })
        };
        if outcome.is_ok() {
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.writes.fetch_add(st.members as u64, Ordering::Relaxed);
        }
        st.members = 0;
        st.broken = false;
        drop(conn);
        batch.finish(outcome);
    }
}

/// A write's result in its savepoint, or the panic it raised.
type Stepped<T, E> = Result<Result<T, Step<E>>, Box<dyn std::any::Any + Send>>;

/// How a write in a savepoint ended, short of success.
enum Step<E> {
    /// `work` returned this error; its savepoint was rolled back.
    Work(E),
    /// The savepoint could not be opened, released or rolled back to.
    Broken(RepositoryError),
}

/// Opens a transaction suited to the backend, runs `work`, then commits or
/// rolls back. A panic inside `work` rolls back too (the guard's drop).
pub(super) fn in_transaction<T, E>(
    conn: &mut DbConnection,
    write: bool,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<RepositoryError>,
{
    let begin = match (&mut *conn, write) {
        (DbConnection::Sqlite(c), true) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        (DbConnection::Sqlite(c), false) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
        (DbConnection::Pg(c), true) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
        (DbConnection::Pg(c), false) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        }
    };
    begin.map_err(|e| E::from(super::repository_error(e)))?;
    let mut guard = RollbackGuard(Some(conn));
    let result = work(guard.conn());
    let conn = guard.0.take().expect("guard holds the connection");
    match result {
        Ok(value) => {
            DbConnection::commit_transaction(conn).map_err(|e| E::from(super::repository_error(e)))?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection broken; r2d2 then drops it.
            let _ = DbConnection::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// Rolls back if dropped while still holding the connection (a panic).
struct RollbackGuard<'a>(Option<&'a mut DbConnection>);

impl RollbackGuard<'_> {
    fn conn(&mut self) -> &mut DbConnection {
        self.0.as_deref_mut().expect("guard holds the connection")
    }
}

impl Drop for RollbackGuard<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            let _ = DbConnection::rollback_transaction(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use invoice_domain::RepositoryError;

    use super::{Database, PoolConfig};

    #[test]
    fn a_sqlite_writer_that_cannot_get_its_turn_gives_up_as_unavailable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("writer.db");
        let url = url.to_str().expect("utf-8 path");
        Database::open(url, PoolConfig::default()).expect("create and migrate");
        // A short wait for the writer's turn, long enough to open a SQLite
        // connection on a busy machine.
        let config = PoolConfig {
            connection_timeout: Duration::from_secs(1),
            ..PoolConfig::default()
        };
        let db = Database::connect(url, config).expect("connect");

        // The first write holds the writer until the test lets it go.
        let (inside_tx, inside) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let holder = {
            let db = db.clone();
            std::thread::spawn(move || {
                db.write_conn(|_| {
                    inside_tx.send(()).expect("signal");
                    release_rx.recv().expect("release");
                    Ok::<_, RepositoryError>(())
                })
            })
        };
        inside.recv().expect("the holder is writing");

        // The second must answer while the first still holds the writer.
        let (done_tx, done) = mpsc::channel();
        {
            let db = db.clone();
            std::thread::spawn(move || {
                let _ = done_tx.send(db.write_conn(|_| Ok::<_, RepositoryError>(())));
            });
        }
        let second = done
            .recv_timeout(Duration::from_secs(30))
            .expect("a queued writer must not wait without bound");
        assert!(matches!(second, Err(RepositoryError::Unavailable(_))), "{second:?}");

        release.send(()).expect("release the holder");
        assert_eq!(holder.join().expect("holder thread"), Ok(()));
        // The writer is free again and takes the next write.
        assert_eq!(db.write_conn(|_| Ok::<_, RepositoryError>(())), Ok(()));
    }
}
