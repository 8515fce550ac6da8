//! `invoice-server`: serves the Storno API and administers tenants and keys.
//!
//! Thin on purpose: it parses configuration, opens the database (running
//! migrations), wires the adapters and starts the HTTP server. Every rule
//! lives in `invoice-domain`; every IO detail in `invoice-adapters`.

mod cli;

use std::io::IsTerminal;
use std::net::{TcpListener, ToSocketAddrs};
use std::process::ExitCode;

use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Parser;
use invoice_adapters::inbound::http::rate_limit::RateLimit;
use invoice_adapters::inbound::http::{self, auth, AppState, Dialects, ServerConfig};
use invoice_adapters::outbound::db::admin::{self, NewApiKey, Revoked};
use invoice_adapters::outbound::db::{settings, Backend, Database, PoolConfig};
use invoice_adapters::outbound::housekeeping::{self, Housekeeper, HousekeepingConfig, Retention};
use invoice_adapters::outbound::secrets::{self, SecretBox};
use invoice_adapters::outbound::webhooks::{Dispatcher, DispatcherConfig, RetryPolicy, WebhookSettings};
use invoice_domain::RepositoryError;

use cli::{Cli, Command, KeyCommand, LogFormat, SellerFlags, TenantCommand};
use invoice_adapters::inbound::http::views::{
    AddressBody, ContactBody, ElectronicAddressBody, PaymentMeansBody, SellerPatch, TenantPatchBody, TenantView,
};

/// The flag that sets a field of `/v1/tenant`, for error messages
/// (`seller.address.country` is `--seller-country`).
fn flag_of(field: &str) -> String {
    let field = field
        .replace("address.", "")
        .replace("payment_means.", "")
        .replace("electronic_address.scheme", "endpoint_scheme")
        .replace("electronic_address.value", "endpoint");
    field.replace(['.', '_'], "-")
}

/// The seller flags as a patch: each flag given replaces its field.
fn seller_patch(f: &SellerFlags) -> SellerPatch {
    let set = |v: &Option<String>| v.clone().map(Some);
    let address = [
        &f.seller_street,
        &f.seller_city,
        &f.seller_postcode,
        &f.seller_region,
        &f.seller_country,
    ]
    .iter()
    .any(|v| v.is_some())
    .then(|| {
        Some(AddressBody {
            street: f.seller_street.clone(),
            city: f.seller_city.clone(),
            postcode: f.seller_postcode.clone(),
            region: f.seller_region.clone(),
            country: f.seller_country.clone(),
        })
    });
    let contact = [&f.seller_contact_name, &f.seller_contact_phone, &f.seller_contact_email]
        .iter()
        .any(|v| v.is_some())
        .then(|| {
            Some(ContactBody {
                name: f.seller_contact_name.clone(),
                phone: f.seller_contact_phone.clone(),
                email: f.seller_contact_email.clone(),
            })
        });
    SellerPatch {
        name: set(&f.seller_name),
        vat_id: set(&f.seller_vat_id),
        tax_registration: set(&f.seller_tax_registration),
        address,
        electronic_address: f
            .seller_endpoint_scheme
            .clone()
            .zip(f.seller_endpoint.clone())
            .map(|(scheme, value)| Some(ElectronicAddressBody { scheme, value })),
        contact,
        payment_means: f.seller_iban.clone().map(|iban| {
            Some(PaymentMeansBody {
                code: None,
                iban,
                bic: f.seller_bic.clone(),
                account_name: f.seller_account_name.clone(),
            })
        }),
        payment_terms: set(&f.seller_payment_terms),
        locale: set(&f.seller_locale),
    }
}

/// Logs go to stderr; colours only when it is a terminal, so log files and
/// collectors never receive escape codes.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The configuration, checked as a whole before anything starts.
struct Settings {
    dialects: Dialects,
    backend: &'static str,
}

/// Checks every setting that can be checked without side effects.
fn validate(cli: &Cli) -> Result<Settings, String> {
    let dialects = Dialects::parse(&cli.dialects).map_err(|e| format!("--dialects: {e}"))?;
    let backend = Backend::from_url(&cli.database_url)
        .map_err(|e| format!("--database-url: {e}"))?
        .name();
    let resolves = cli.bind.to_socket_addrs().map(|mut a| a.next().is_some());
    if !matches!(resolves, Ok(true)) {
        return Err(format!("--bind: {:?} is not an address like 127.0.0.1:8080", cli.bind));
    }
    if cli.pool_size == 0 {
        return Err("--pool-size must be at least 1".into());
    }
    if cli.rate_limit > 0 && cli.rate_burst == 0 {
        return Err("--rate-burst must be at least 1 when --rate-limit is set".into());
    }
    if cli.client_rate_limit > 0 && cli.client_rate_burst == 0 {
        return Err("--client-rate-burst must be at least 1 when --client-rate-limit is set".into());
    }
    Ok(Settings { dialects, backend })
}

fn pool_config(cli: &Cli) -> PoolConfig {
    PoolConfig {
        max_size: cli.pool_size,
        ..PoolConfig::default()
    }
}

fn open(cli: &Cli) -> Result<Database, String> {
    Database::open(&cli.database_url, pool_config(cli)).map_err(|e| e.to_string())
}

fn housekeeping_config(cli: &Cli) -> HousekeepingConfig {
    HousekeepingConfig {
        retention: Retention {
            idempotency: cli.idempotency_retention,
            webhook_deliveries: cli.webhook_retention,
        },
        interval: cli.housekeeping_interval,
        ..HousekeepingConfig::default()
    }
}

/// On an empty database, creates tenant `default` and one all-scope key,
/// printed once (by exactly one of several instances starting together).
fn bootstrap(db: &Database) -> Result<(), String> {
    let key = auth::mint_key();
    let scopes = auth::ALL_SCOPES.join(",");
    let created = db
        .write_conn(|c| {
            admin::create_first_tenant(
                c,
                NewApiKey {
                    tenant_id: 0,
                    id: &key.id,
                    key_hash: &key.hash,
                    scopes: &scopes,
                    party_id: None,
                    expires_at: None,
                },
            )
        })
        .map_err(|e| e.to_string())?;
    if created {
        println!("Created tenant \"default\" and an API key with every scope:\n");
        println!("    {}\n", key.secret);
        println!("Store it now: it will not be shown again.");
    }
    Ok(())
}

/// The secret box from `INVOICE_SECRET_KEY`, after sealing the webhook
/// secrets still stored in plaintext. Refuses to start when a stored secret
/// does not open, since no delivery of that endpoint could be signed.
fn secret_box(db: &Database) -> Result<SecretBox, String> {
    let secrets = SecretBox::from_env().map_err(|e| e.to_string())?;
    let report = db
        .write_conn(|c| secrets::seal_stored_secrets(c, &secrets))
        .map_err(|e| e.to_string())?;
    if secrets.encrypts() {
        tracing::info!(
            sealed_now = report.sealed,
            already_sealed = report.already_sealed,
            "webhook secrets are encrypted at rest"
        );
    } else {
        tracing::warn!(
            "{} is not set: webhook secrets are stored unencrypted",
            secrets::KEY_ENV
        );
    }
    Ok(secrets)
}

fn serve(cli: &Cli) -> Result<(), String> {
    let settings = validate(cli)?;
    let db = open(cli)?;
    bootstrap(&db)?;
    let secrets = secret_box(&db)?;
    let listener = TcpListener::bind(&cli.bind).map_err(|e| format!("cannot bind {}: {e}", cli.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, backend = settings.backend, "listening");
    let webhooks = WebhookSettings {
        allow_private: cli.webhook_allow_private,
    };
    let state = actix_web::web::Data::new(
        AppState::new(db.clone(), settings.dialects)
            .with_rate_limit(RateLimit {
                per_second: cli.rate_limit,
                burst: cli.rate_burst,
            })
            .with_client_rate_limit(RateLimit {
                per_second: cli.client_rate_limit,
                burst: cli.client_rate_burst,
            })
            .with_key_cache_ttl(cli.key_cache_ttl)
            .with_idempotency_retention(cli.idempotency_retention)
            .with_webhooks(webhooks)
            .with_secrets(secrets.clone()),
    );
    let config = ServerConfig {
        workers: cli.workers,
        ..ServerConfig::default()
    };
    // Webhooks and housekeeping run on their own threads, never on the HTTP workers.
    let lease = std::time::Duration::from_secs(cli.webhook_lease_secs.max(11));
    let dispatcher = (!cli.no_webhook_delivery).then(|| {
        Dispatcher::start_with(
            db.clone(),
            DispatcherConfig {
                lease,
                secrets,
                attempts: Some(state.metrics.webhook_attempts()),
                ..DispatcherConfig::new(RetryPolicy::default(), webhooks.allow_private)
            },
        )
    });
    let housekeeper = Housekeeper::start(db, housekeeping_config(cli));
    let served = actix_web::rt::System::new().block_on(async move {
        let server = http::serve(state, listener, config).map_err(|e| e.to_string())?;
        server.await.map_err(|e| e.to_string())
    });
    if let Some(d) = dispatcher {
        d.stop();
    }
    housekeeper.stop();
    served
}

/// `check`: every line says what was checked; any problem makes it fail.
fn check(cli: &Cli) -> Result<(), String> {
    let settings = validate(cli)?;
    println!("configuration: ok ({} database, bind {})", settings.backend, cli.bind);
    // Connecting would create a missing SQLite file: say it is missing instead.
    if let Ok(Backend::Sqlite(path)) = Backend::from_url(&cli.database_url) {
        if !std::path::Path::new(&path).exists() {
            return Err(format!(
                "database: the SQLite file {path} does not exist (the server or `invoice-server migrate` creates it)"
            ));
        }
    }
    let db = Database::connect(&cli.database_url, pool_config(cli)).map_err(|e| e.to_string())?;
    db.ping().map_err(|e| format!("database: {e}"))?;
    let tls = db.tls_version().map_err(|e| format!("database: {e}"))?;
    match (settings.backend, tls) {
        ("postgres", Some(version)) => println!("database: connected (TLS {version})"),
        ("postgres", None) => println!("database: connected (no TLS)"),
        _ => println!("database: connected"),
    }
    let status = db.migration_status().map_err(|e| e.to_string())?;
    println!(
        "migrations: {} applied, {} pending",
        status.applied.len(),
        status.pending.len()
    );
    for version in &status.pending {
        println!("  pending: {version}");
    }
    if !status.unknown.is_empty() {
        return Err(format!(
            "the database has migrations this build does not know ({}): it was migrated by a newer release",
            status.unknown.join(", ")
        ));
    }
    if !status.pending.is_empty() {
        return Err("migrations are pending: run `invoice-server migrate` (or start the server)".into());
    }
    println!("ok");
    Ok(())
}

/// `purge`: one housekeeping run, now.
fn purge(cli: &Cli) -> Result<(), String> {
    let db = open(cli)?;
    let purged =
        housekeeping::purge(&db, &housekeeping_config(cli), Utc::now(), &|| true).map_err(|e| e.to_string())?;
    println!(
        "purged {} idempotency records, {} webhook deliveries and {} attempts",
        purged.idempotency_records, purged.webhook_deliveries, purged.webhook_attempts
    );
    Ok(())
}

/// Reads `--expires-at`: RFC 3339, in the future.
fn expiry(text: &str) -> Result<NaiveDateTime, String> {
    let at = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|e| format!("--expires-at {text:?} is not an RFC 3339 time like 2027-01-31T00:00:00Z: {e}"))?
        .with_timezone(&Utc);
    if at <= Utc::now() {
        return Err(format!("--expires-at {text:?} is not in the future"));
    }
    Ok(at.naive_utc())
}

/// A stored time for `keys list`, or `-`.
fn when(at: Option<NaiveDateTime>) -> String {
    at.map_or_else(|| "-".into(), |t| t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn keys(cli: &Cli, command: &KeyCommand) -> Result<(), String> {
    match command {
        KeyCommand::Create {
            tenant,
            scopes,
            party,
            expires_at,
        } => {
            // Every input is checked before anything is written.
            let scopes = auth::parse_scopes(scopes)?;
            let expires_at = expires_at.as_deref().map(expiry).transpose()?;
            let db = open(cli)?;
            let key = auth::mint_key();
            db.write_conn(|c| {
                let t = admin::find_tenant(c, tenant)?.ok_or(RepositoryError::NotFound)?;
                admin::insert_api_key(
                    c,
                    NewApiKey {
                        tenant_id: t.id,
                        id: &key.id,
                        key_hash: &key.hash,
                        scopes: &scopes.join(","),
                        party_id: party.as_deref(),
                        expires_at,
                    },
                )
            })
            .map_err(|e| match e {
                RepositoryError::NotFound => format!("no tenant {tenant:?}"),
                other => other.to_string(),
            })?;
            println!("{}", key.secret);
            Ok(())
        }
        KeyCommand::List { tenant } => {
            let db = open(cli)?;
            let rows = db
                .read_conn(|c| {
                    let only = match tenant {
                        Some(t) => Some(admin::find_tenant(c, t)?.ok_or(RepositoryError::NotFound)?.id),
                        None => None,
                    };
                    admin::list_api_keys(c, only)
                })
                .map_err(|e| match e {
                    RepositoryError::NotFound => format!("no tenant {:?}", tenant.as_deref().unwrap_or_default()),
                    other => other.to_string(),
                })?;
            println!("ID\tTENANT\tSCOPES\tPARTY\tCREATED\tLAST USED\tEXPIRES\tREVOKED");
            for (k, slug) in rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    slug,
                    k.scopes,
                    k.party_id.as_deref().unwrap_or("-"),
                    when(Some(k.created_at)),
                    when(k.last_used_at),
                    when(k.expires_at),
                    when(k.revoked_at),
                );
            }
            Ok(())
        }
        KeyCommand::Revoke { id } => {
            let db = open(cli)?;
            let now = Utc::now().naive_utc();
            match db
                .write_conn(|c| admin::revoke_api_key(c, id, now))
                .map_err(|e| e.to_string())?
            {
                Revoked::Now => {
                    println!(
                        "revoked {id}; every instance refuses it within its key-cache TTL ({} s here)",
                        cli.key_cache_ttl.as_secs()
                    );
                    Ok(())
                }
                Revoked::Already(at) => {
                    println!("{id} was already revoked at {}", when(Some(at)));
                    Ok(())
                }
                Revoked::NotFound => Err(format!("no key {id:?}")),
            }
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        None | Some(Command::Serve) => serve(&cli),
        Some(Command::Migrate) => {
            open(&cli)?;
            eprintln!("migrations are up to date");
            Ok(())
        }
        Some(Command::Check) => check(&cli),
        Some(Command::Purge) => purge(&cli),
        Some(Command::Openapi) => {
            let doc = http::openapi::document(&Dialects::parse(&cli.dialects)?);
            println!("{}", serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?);
            Ok(())
        }
        Some(Command::Tenants {
            command: TenantCommand::Create { slug, name },
        }) => {
            let db = open(&cli)?;
            let row = db
                .write_conn(|c| admin::create_tenant(c, slug, name.as_deref().unwrap_or(slug)))
                .map_err(|e| match e {
                    RepositoryError::UniqueViolation(_) => format!("a tenant with slug {slug:?} already exists"),
                    other => format!("cannot create tenant {slug:?}: {other}"),
                })?;
            println!("{}", row.id);
            Ok(())
        }
        Some(Command::Tenants {
            command:
                TenantCommand::Update {
                    tenant,
                    credit_note_series,
                    void_credit_note,
                    apply_credit_balance,
                    invoice_number_format,
                    credit_note_number_format,
                    require_en16931,
                    seller,
                },
        }) => {
            let patch = TenantPatchBody {
                seller: Some(seller_patch(seller)),
                require_en16931: *require_en16931,
                credit_note_series: credit_note_series.clone(),
                void_credit_note: void_credit_note.clone(),
                apply_credit_balance: *apply_credit_balance,
                invoice_number_format: invoice_number_format.clone(),
                credit_note_number_format: credit_note_number_format.clone(),
            };
            let db = open(&cli)?;
            let (id, slug, settings) = db
                .write_conn(|c| {
                    let t = admin::find_tenant(c, tenant)?.ok_or(invoice_domain::RepositoryError::NotFound)?;
                    let id = invoice_domain::TenantId::new(t.id);
                    let next = patch.apply(&settings::load(c, id)?).map_err(|e| {
                        invoice_domain::RepositoryError::Other(format!("--{}: {}", flag_of(&e.field), e.message))
                    })?;
                    settings::save(c, id, &next)?;
                    Ok((t.id, t.slug, next))
                })
                .map_err(|e| match e {
                    invoice_domain::RepositoryError::NotFound => format!("no tenant {tenant:?}"),
                    invoice_domain::RepositoryError::Other(message) => message,
                    other => other.to_string(),
                })?;
            let shown = TenantView::new(id, &slug, &settings);
            println!("{}", serde_json::to_string_pretty(&shown).map_err(|e| e.to_string())?);
            Ok(())
        }
        Some(Command::Keys { command }) => keys(&cli, command),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
