//! Shared state of the HTTP adapter.

use invoice_domain::{InvoiceService, SystemClock, UuidV7};

use super::auth::KeyCache;
use super::metrics::Metrics;
use super::rate_limit::{RateLimit, RateLimiter};
use crate::outbound::db::Database;
use crate::outbound::secrets::SecretBox;
use crate::outbound::webhooks::WebhookSettings;

/// The use-case service as wired in production.
pub type Service = InvoiceService<SystemClock, UuidV7>;

/// Which seed-API dialects are mounted besides `/v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialects {
    /// The TMS transporter billing API.
    pub tms: bool,
    /// The plug&paid accounting API.
    pub plugnpaid: bool,
    /// The ChargeOver billing API.
    pub chargeover: bool,
    /// The Flextell e-invoicing API.
    pub flextell: bool,
}

impl Default for Dialects {
    fn default() -> Self {
        Dialects::all()
    }
}

impl Dialects {
    /// Every dialect.
    pub fn all() -> Self {
        Dialects {
            tms: true,
            plugnpaid: true,
            chargeover: true,
            flextell: true,
        }
    }

    /// Parses `tms,plugnpaid,chargeover,flextell`, `all` or `none`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut d = Dialects {
            tms: false,
            plugnpaid: false,
            chargeover: false,
            flextell: false,
        };
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match name {
                "none" => {}
                "all" => d = Dialects::all(),
                "tms" => d.tms = true,
                "plugnpaid" => d.plugnpaid = true,
                "chargeover" => d.chargeover = true,
                "flextell" => d.flextell = true,
                other => return Err(format!("unknown dialect {other:?}")),
            }
        }
        Ok(d)
    }
}

/// Everything a handler needs.
pub struct AppState {
    /// The database.
    pub db: Database,
    /// The use cases.
    pub service: Service,
    /// Validated API keys.
    pub keys: KeyCache,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Mounted dialects.
    pub dialects: Dialects,
    /// Per-key request rate limit.
    pub rate_limiter: RateLimiter,
    /// Webhook settings (which endpoint URLs are accepted).
    pub webhooks: WebhookSettings,
    /// Seals webhook secrets, and the stored replies showing them, at rest.
    pub secrets: SecretBox,
}

impl AppState {
    /// Builds the state around a database.
    pub fn new(db: Database, dialects: Dialects) -> Self {
        AppState {
            db,
            service: InvoiceService::new(SystemClock, UuidV7),
            keys: KeyCache::default(),
            metrics: Metrics::new(),
            dialects,
            rate_limiter: RateLimiter::new(RateLimit::default()),
            webhooks: WebhookSettings::default(),
            secrets: SecretBox::plaintext(),
        }
    }

    /// Seals webhook secrets at rest with `secrets` (from `INVOICE_SECRET_KEY`).
    pub fn with_secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = secrets;
        self
    }

    /// Sets the webhook settings (e.g. allowing private targets in development).
    pub fn with_webhooks(mut self, webhooks: WebhookSettings) -> Self {
        self.webhooks = webhooks;
        self
    }
}

impl AppState {
    /// Replaces the per-key rate limit (0 requests per second disables it).
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limiter = RateLimiter::new(limit);
        self
    }
}
