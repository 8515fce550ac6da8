//! Prometheus metrics: requests by route and status, pool state, key
//! lookups and rate limiting, and the webhook outbox.
//!
//! Every label takes its value from a fixed set, never from the request as
//! sent: an unknown method counts as `other` and a path no route matches as
//! `unmatched`, so junk requests cannot grow `/metrics` (or memory).

use actix_web::http::Method;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::outbound::webhooks::AttemptCounter;
use crate::ports::OutboxStats;

/// The method as a label: one of the standard methods, else `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The registry and the series the server exports.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    key_lookups: IntCounter,
    rate_limited: IntCounterVec,
    webhook_attempts: AttemptCounter,
    pending_deliveries: IntGauge,
    oldest_undelivered: Gauge,
    idempotency_records: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every series.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let pool_connections =
            IntGauge::new("db_pool_connections", "Open database connections in the read pool").expect("valid metric");
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections in the read pool")
            .expect("valid metric");
        let key_lookups = IntCounter::new(
            "auth_key_lookups_total",
            "API keys looked up in the database (requests the key cache could not answer)",
        )
        .expect("valid metric");
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "http_rate_limited_total",
                "Requests refused with 429, by limit: per API key or per client address",
            ),
            &["limit"],
        )
        .expect("valid metric");
        for limit in ["key", "client"] {
            rate_limited.with_label_values(&[limit]);
        }
        let webhook_attempts = AttemptCounter::new();
        let pending_deliveries = IntGauge::new(
            "webhook_deliveries_pending",
            "Webhook deliveries to enabled endpoints not yet delivered",
        )
        .expect("valid metric");
        let oldest_undelivered = Gauge::new(
            "webhook_oldest_undelivered_event_age_seconds",
            "Age of the oldest event an enabled endpoint has still to receive (0: none waiting)",
        )
        .expect("valid metric");
        let idempotency_records =
            IntGauge::new("idempotency_records", "Rows in the idempotency table").expect("valid metric");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(key_lookups.clone()),
            Box::new(rate_limited.clone()),
            webhook_attempts.collector(),
            Box::new(pending_deliveries.clone()),
            Box::new(oldest_undelivered.clone()),
            Box::new(idempotency_records.clone()),
        ] {
            registry.register(c).expect("unique metric");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            key_lookups,
            rate_limited,
            webhook_attempts,
            pending_deliveries,
            oldest_undelivered,
            idempotency_records,
        }
    }

    /// Records one finished request; `method` and `route` must come from
    /// fixed sets ([`method_label`], a route pattern or `unmatched`).
    pub fn observe(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    /// Counts one API key looked up in the database.
    pub fn key_lookup(&self) {
        self.key_lookups.inc();
    }

    /// How many API keys were looked up in the database so far.
    pub fn key_lookups(&self) -> u64 {
        self.key_lookups.get()
    }

    /// Counts one request refused by `limit` (`key` or `client`).
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited.with_label_values(&[limit]).inc();
    }

    /// The counter the webhook dispatcher of this process reports attempts to.
    pub fn webhook_attempts(&self) -> AttemptCounter {
        self.webhook_attempts.clone()
    }

    /// Renders the text exposition format, with the pool state as of now
    /// and the outbox figures as last read (when there are any).
    pub fn render(&self, pool: (u32, u32), outbox: Option<OutboxStats>) -> String {
        self.pool_connections.set(i64::from(pool.0));
        self.pool_idle.set(i64::from(pool.1));
        if let Some(o) = outbox {
            self.pending_deliveries.set(o.pending_deliveries);
            self.oldest_undelivered.set(o.oldest_undelivered_age_seconds);
            self.idempotency_records.set(o.idempotency_records);
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_collapse_into_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        for junk in ["FOO", "get", "X".repeat(4000).as_str()] {
            let m = Method::from_bytes(junk.as_bytes()).unwrap();
            assert_eq!(method_label(&m), "other", "{junk:.20}");
        }
    }
}
