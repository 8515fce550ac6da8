//! Command-line interface and configuration (flags and environment).

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
    },
}

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key; prints the secret alone on stdout (shown only once).
    Create {
        /// Tenant slug or id.
        #[arg(long)]
        tenant: String,
        /// Comma-separated scopes: invoices:read, invoices:write, invoices:cancel, webhooks:manage.
        #[arg(long)]
        scopes: String,
        /// Restrict the key to invoices where this party is issuer or customer.
        #[arg(long)]
        party: Option<String>,
    },
}
