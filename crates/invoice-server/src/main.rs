//! `invoice-server`: serves the Storno API and administers tenants and keys.
//!
//! Thin on purpose: it parses configuration, opens the database (running
//! migrations), wires the adapters and starts the HTTP server. Every rule
//! lives in `invoice-domain`; every IO detail in `invoice-adapters`.

mod cli;

use std::net::TcpListener;
use std::process::ExitCode;

use clap::Parser;
use invoice_adapters::inbound::http::rate_limit::RateLimit;
use invoice_adapters::inbound::http::{self, auth, AppState, Dialects, ServerConfig};
use invoice_adapters::outbound::db::{admin, settings, Database, PoolConfig};
use invoice_adapters::outbound::secrets::{self, SecretBox};
use invoice_adapters::outbound::webhooks::{Dispatcher, DispatcherConfig, RetryPolicy, WebhookSettings};

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

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn open(cli: &Cli) -> Result<Database, String> {
    let config = PoolConfig {
        max_size: cli.pool_size,
        ..PoolConfig::default()
    };
    Database::open(&cli.database_url, config).map_err(|e| e.to_string())
}

/// On an empty database, creates tenant `default` and one all-scope key,
/// printed once.
fn bootstrap(db: &Database) -> Result<(), String> {
    let created = db
        .write_conn(|c| {
            if admin::count_tenants(c)? > 0 {
                return Ok(None);
            }
            let tenant = admin::create_tenant(c, "default", "Default tenant")?;
            let key = auth::mint_key();
            admin::insert_api_key(c, tenant.id, &key.id, &key.hash, &auth::ALL_SCOPES.join(","), None)?;
            Ok::<_, invoice_domain::RepositoryError>(Some(key))
        })
        .map_err(|e| e.to_string())?;
    if let Some(key) = created {
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
    let db = open(cli)?;
    bootstrap(&db)?;
    let secrets = secret_box(&db)?;
    let dialects = Dialects::parse(&cli.dialects)?;
    let listener = TcpListener::bind(&cli.bind).map_err(|e| format!("cannot bind {}: {e}", cli.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, backend = db.backend().name(), "listening");
    let limit = RateLimit {
        per_second: cli.rate_limit,
        burst: cli.rate_burst,
    };
    let webhooks = WebhookSettings {
        allow_private: cli.webhook_allow_private,
    };
    let state = actix_web::web::Data::new(
        AppState::new(db.clone(), dialects)
            .with_rate_limit(limit)
            .with_webhooks(webhooks)
            .with_secrets(secrets.clone()),
    );
    let config = ServerConfig {
        workers: cli.workers,
        ..ServerConfig::default()
    };
    // Webhooks go out from their own threads, never from the HTTP workers.
    let lease = std::time::Duration::from_secs(cli.webhook_lease_secs.max(11));
    let dispatcher = (!cli.no_webhook_delivery).then(|| {
        Dispatcher::start_with(
            db,
            DispatcherConfig {
                lease,
                secrets,
                ..DispatcherConfig::new(RetryPolicy::default(), webhooks.allow_private)
            },
        )
    });
    let served = actix_web::rt::System::new().block_on(async move {
        let server = http::serve(state, listener, config).map_err(|e| e.to_string())?;
        server.await.map_err(|e| e.to_string())
    });
    if let Some(d) = dispatcher {
        d.stop();
    }
    served
}

fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        None | Some(Command::Serve) => serve(&cli),
        Some(Command::Migrate) => {
            open(&cli)?;
            eprintln!("migrations are up to date");
            Ok(())
        }
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
                .map_err(|e| format!("cannot create tenant {slug:?}: {e}"))?;
            println!("{}", row.id);
            Ok(())
        }
        Some(Command::Tenants {
            command:
                TenantCommand::Update {
                    tenant,
                    credit_note_series,
                    require_en16931,
                    seller,
                },
        }) => {
            let patch = TenantPatchBody {
                seller: Some(seller_patch(seller)),
                require_en16931: *require_en16931,
                credit_note_series: credit_note_series.clone(),
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
        Some(Command::Keys {
            command: KeyCommand::Create { tenant, scopes, party },
        }) => {
            let scopes = auth::parse_scopes(scopes)?;
            let db = open(&cli)?;
            let key = auth::mint_key();
            db.write_conn(|c| {
                let t = admin::find_tenant(c, tenant)?.ok_or(invoice_domain::RepositoryError::NotFound)?;
                admin::insert_api_key(c, t.id, &key.id, &key.hash, &scopes.join(","), party.as_deref())
            })
            .map_err(|e| match e {
                invoice_domain::RepositoryError::NotFound => format!("no tenant {tenant:?}"),
                other => other.to_string(),
            })?;
            println!("{}", key.secret);
            Ok(())
        }
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
