//! Shared state of the HTTP adapter.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use invoice_domain::{InvoiceService, SystemClock, UuidV7};

use super::key_cache::KeyCache;
use super::metrics::Metrics;
use super::rate_limit::{RateLimit, RateLimiter};
use crate::outbound::db::Database;
use crate::outbound::secrets::SecretBox;
use crate::outbound::webhooks::WebhookSettings;
use crate::ports::OutboxStats;
use crate::ports::DEFAULT_IDEMPOTENCY_RETENTION;

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
    pub rate_limiter: RateLimiter<String>,
    /// Per-client-address limit on requests the key cache cannot answer.
    pub client_limiter: RateLimiter<IpAddr>,
    /// Webhook settings (which endpoint URLs are accepted).
    pub webhooks: WebhookSettings,
    /// Seals webhook secrets, and the stored replies showing them, at rest.
    pub secrets: SecretBox,
    /// How long idempotency records are kept (and a key replays).
    pub idempotency_retention: Duration,
    /// The outbox figures last read for `/metrics`, and when.
    pub outbox_stats: Mutex<Option<(Instant, OutboxStats)>>,
    /// How old those figures may be before a scrape reads them again.
    pub outbox_stats_max_age: Duration,
}

impl AppState {
    /// Builds the state around a database, with the production defaults.
    pub fn new(db: Database, dialects: Dialects) -> Self {
        AppState {
            db,
            service: InvoiceService::new(SystemClock, UuidV7),
            keys: KeyCache::default(),
            metrics: Metrics::new(),
            dialects,
            rate_limiter: RateLimiter::new(RateLimit::default()),
            client_limiter: RateLimiter::new(RateLimit::client_default()),
            webhooks: WebhookSettings::default(),
            secrets: SecretBox::plaintext(),
            idempotency_retention: DEFAULT_IDEMPOTENCY_RETENTION,
            outbox_stats: Mutex::new(None),
            outbox_stats_max_age: Duration::from_secs(10),
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

    /// Replaces the per-key rate limit (0 requests per second disables it).
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limiter = RateLimiter::new(limit);
        self
    }

    /// Replaces the per-client-address limit on requests the key cache
    /// cannot answer (0 requests per second disables it).
    pub fn with_client_rate_limit(mut self, limit: RateLimit) -> Self {
        self.client_limiter = RateLimiter::new(limit);
        self
    }

    /// Sets how long a validated key is cached, which bounds how long a
    /// revoked key keeps working on this instance.
    pub fn with_key_cache_ttl(mut self, ttl: Duration) -> Self {
        self.keys = KeyCache::new(ttl);
        self
    }

    /// Sets how long idempotency records are kept.
    pub fn with_idempotency_retention(mut self, retention: Duration) -> Self {
        self.idempotency_retention = retention;
        self
    }

    /// Sets how often a scrape of `/metrics` may query the database for the
    /// outbox figures (zero: every scrape). Only for tests, which need each
    /// scrape to show the outbox as it is now; the server keeps the default.
    #[cfg(feature = "testkit")]
    pub fn with_outbox_stats_max_age(mut self, max_age: Duration) -> Self {
        self.outbox_stats_max_age = max_age;
        self
    }
}
