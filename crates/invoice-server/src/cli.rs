//! Command-line interface and configuration (flags and environment).

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// Storno: invoices with exact cancellation and voiding.
#[derive(Debug, Parser)]
#[command(name = "invoice-server", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://PATH` (default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://invoice.db", global = true)]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "INVOICE_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,
    /// Seed-API dialects to mount: `tms,plugnpaid,chargeover,flextell`, `all` or `none`.
    #[arg(long, env = "INVOICE_DIALECTS", default_value = "all", global = true)]
    pub dialects: String,
    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "INVOICE_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,
    /// Database pool size.
    #[arg(long, env = "INVOICE_POOL_SIZE", default_value_t = 8, global = true)]
    pub pool_size: u32,
    /// Requests per second allowed per API key (0: unlimited).
    #[arg(long, env = "INVOICE_RATE_LIMIT", default_value_t = 100, global = true)]
    pub rate_limit: u32,
    /// Requests an idle API key may send at once.
    #[arg(long, env = "INVOICE_RATE_BURST", default_value_t = 200, global = true)]
    pub rate_burst: u32,
    /// Requests per second per client address that the key cache cannot
    /// answer (no key, a bad key, a key's first use in a cache period),
    /// checked before any database lookup (0: unlimited).
    #[arg(long, env = "INVOICE_CLIENT_RATE_LIMIT", default_value_t = 10, global = true)]
    pub client_rate_limit: u32,
    /// Such requests an idle client address may send at once.
    #[arg(long, env = "INVOICE_CLIENT_RATE_BURST", default_value_t = 50, global = true)]
    pub client_rate_burst: u32,
    /// How long a validated API key is cached by each instance, and so how
    /// long a revoked key may keep working there (`0s`: no cache).
    #[arg(long, env = "INVOICE_KEY_CACHE_TTL", default_value = "30s", value_parser = duration, global = true)]
    pub key_cache_ttl: Duration,
    /// How long idempotency records are kept (and a key replays its reply).
    #[arg(long, env = "INVOICE_IDEMPOTENCY_RETENTION", default_value = "48h", value_parser = positive_duration, global = true)]
    pub idempotency_retention: Duration,
    /// How long finished webhook deliveries and their attempts are kept.
    #[arg(long, env = "INVOICE_WEBHOOK_RETENTION", default_value = "30d", value_parser = positive_duration, global = true)]
    pub webhook_retention: Duration,
    /// Time between two housekeeping runs (purging expired records).
    #[arg(long, env = "INVOICE_HOUSEKEEPING_INTERVAL", default_value = "10m", value_parser = positive_duration, global = true)]
    pub housekeeping_interval: Duration,
    /// Let webhook endpoints target loopback, private and link-local
    /// addresses (local development and tests only; refused by default).
    #[arg(long, env = "INVOICE_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: bool,
    /// Do not run the webhook dispatcher in this process (endpoints can still
    /// be managed; another process, or a later start, delivers the events).
    #[arg(long, env = "INVOICE_NO_WEBHOOK_DELIVERY", global = true)]
    pub no_webhook_delivery: bool,
    /// Seconds a claimed webhook delivery stays locked; after a crash it is
    /// sent again once this has passed (must exceed the 10 s send timeout).
    #[arg(long, env = "INVOICE_WEBHOOK_LEASE_SECS", default_value_t = 60, global = true)]
    pub webhook_lease_secs: u64,
    /// Log format on stderr.
    #[arg(long, env = "INVOICE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Check the configuration, connect to the database and show its
    /// migration status; exits non-zero on any problem (a readiness probe).
    Check,
    /// Delete expired idempotency records and webhook deliveries past their
    /// retention now (the server also does it on a schedule).
    Purge,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage tenants.
    Tenants {
        /// Tenant subcommand.
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage API keys.
    Keys {
        /// Key subcommand.
        #[command(subcommand)]
        command: KeyCommand,
    },
}

/// Tenant subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its id.
    Create {
        /// Unique slug (also usable as X-Tenant).
        slug: String,
        /// Display name (defaults to the slug).
        #[arg(long)]
        name: Option<String>,
    },
    /// Change a tenant's settings; prints them afterwards as JSON.
    Update {
        /// Tenant slug or id.
        tenant: String,
        /// The series every credit note is numbered from (1 to 16 of `A-Z`, `0-9`, `_`; default `CN`).
        #[arg(long)]
        credit_note_series: Option<String>,
        /// Whether a void issues a credit note for what is left: `always` (default) or `never`.
        #[arg(long)]
        void_credit_note: Option<String>,
        /// Whether finalize spends the customer's credit balance on a new invoice (default false).
        #[arg(long)]
        apply_credit_balance: Option<bool>,
        /// How invoice numbers print, e.g. `INV-{YYYY}-{SEQ:5}` (placeholders `{SERIES}`, `{YYYY}`, `{YY}`, `{MM}`, `{DD}`, `{SEQ}`, `{SEQ:n}`; default `{SERIES}-{SEQ:6}`).
        #[arg(long)]
        invoice_number_format: Option<String>,
        /// How credit-note numbers print, in the same placeholders.
        #[arg(long)]
        credit_note_number_format: Option<String>,
        /// Make finalize refuse invoices that could not be sent as EN 16931 e-invoices.
        #[arg(long)]
        require_en16931: Option<bool>,
        /// The seller profile (who issues the tenant's invoices).
        #[command(flatten)]
        seller: Box<SellerFlags>,
    },
}

/// The seller profile, flag by flag; a flag left out leaves its field alone.
#[derive(Debug, Default, clap::Args)]
pub struct SellerFlags {
    /// Legal name (BT-27).
    #[arg(long)]
    pub seller_name: Option<String>,
    /// VAT identifier with a country prefix, e.g. DE123456789 (BT-31).
    #[arg(long)]
    pub seller_vat_id: Option<String>,
    /// Tax registration, e.g. a Steuernummer (BT-32).
    #[arg(long)]
    pub seller_tax_registration: Option<String>,
    /// Street and number (BT-35).
    #[arg(long)]
    pub seller_street: Option<String>,
    /// City (BT-37).
    #[arg(long)]
    pub seller_city: Option<String>,
    /// Post code (BT-38).
    #[arg(long)]
    pub seller_postcode: Option<String>,
    /// Region or state (BT-39).
    #[arg(long)]
    pub seller_region: Option<String>,
    /// ISO 3166-1 alpha-2 country code (BT-40).
    #[arg(long)]
    pub seller_country: Option<String>,
    /// Electronic address scheme from the EAS list, e.g. EM or 9930 (BT-34).
    #[arg(long, requires = "seller_endpoint")]
    pub seller_endpoint_scheme: Option<String>,
    /// Electronic address in that scheme (BT-34).
    #[arg(long, requires = "seller_endpoint_scheme")]
    pub seller_endpoint: Option<String>,
    /// Contact name (BT-41).
    #[arg(long)]
    pub seller_contact_name: Option<String>,
    /// Contact telephone (BT-42).
    #[arg(long)]
    pub seller_contact_phone: Option<String>,
    /// Contact e-mail (BT-43).
    #[arg(long)]
    pub seller_contact_email: Option<String>,
    /// IBAN to be paid to, by SEPA credit transfer (code 58) (BT-84).
    #[arg(long)]
    pub seller_iban: Option<String>,
    /// BIC of that account (BT-86).
    #[arg(long, requires = "seller_iban")]
    pub seller_bic: Option<String>,
    /// Account holder (BT-85).
    #[arg(long, requires = "seller_iban")]
    pub seller_account_name: Option<String>,
    /// Default payment terms, e.g. "30 days net" (BT-20).
    #[arg(long)]
    pub seller_payment_terms: Option<String>,
    /// Language of printed documents: en or de.
    #[arg(long)]
    pub seller_locale: Option<String>,
}

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key; prints the secret alone on stdout (shown only once).
    Create {
        /// Tenant slug or id.
        #[arg(long)]
        tenant: String,
        /// Comma-separated scopes: invoices:read, invoices:write, invoices:cancel, webhooks:manage, tenant:manage.
        #[arg(long)]
        scopes: String,
        /// Restrict the key to invoices where this party is issuer or customer.
        #[arg(long)]
        party: Option<String>,
        /// When the key stops working, as RFC 3339 (`2027-01-31T00:00:00Z`).
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// List keys: id, tenant, scopes, party, created, last used, expiry, revocation.
    List {
        /// Only this tenant's keys (slug or id).
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a key by its id (`key_…`); every instance refuses it within
    /// the key-cache TTL.
    Revoke {
        /// The key id, as `keys list` shows it.
        id: String,
    },
}

/// Parses a duration: a whole number with a unit, `s`, `m`, `h` or `d`
/// (`90s`, `10m`, `48h`, `30d`); a bare number is seconds.
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 90s, 10m, 48h or 30d"))?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?} in {text:?}; use s, m, h or d")),
    };
    n.checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Like [`duration`], but zero is refused.
pub fn positive_duration(text: &str) -> Result<Duration, String> {
    let d = duration(text)?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_refuse_junk() {
        assert_eq!(duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(duration("48h"), Ok(Duration::from_secs(172_800)));
        assert_eq!(duration("30d"), Ok(Duration::from_secs(2_592_000)));
        assert_eq!(duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
        for bad in ["", "s", "1w", "-1s", "1.5h", "99999999999999999999d", "1 h"] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
        assert!(positive_duration("0s").is_err());
    }
}
