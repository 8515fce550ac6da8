//! A real server on a random port, and a small blocking HTTP client, for
//! end-to-end tests over real HTTP.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::web;
use invoice_adapters::inbound::http::{self, auth, AppState, Dialects, ServerConfig};
use invoice_adapters::outbound::db::{admin, Database};
use invoice_domain::TenantId;

use crate::support::TestDb;

/// A running server with tenant `acme` and an all-scope key.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// An all-scope key of tenant `acme`.
    pub key: String,
    /// The id (`key_…`) of `key`.
    pub key_id: String,
    /// The tenant `acme`.
    pub tenant: TenantId,
    /// The database behind the server.
    pub db: Database,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The server's state (its metrics, limiters, key cache).
    pub state: web::Data<AppState>,
    handle: ServerHandle,
    _db: TestDb,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Sends the stop command now; the server thread finishes on its own.
        drop(self.handle.stop(false));
    }
}

/// Creates a key in `tenant` and returns its secret.
pub fn create_key(db: &Database, tenant: TenantId, scopes: &str, party: Option<&str>) -> String {
    create_key_with_id(db, tenant, scopes, party).0
}

/// Creates a key in `tenant` and returns its secret and its id.
pub fn create_key_with_id(db: &Database, tenant: TenantId, scopes: &str, party: Option<&str>) -> (String, String) {
    let key = auth::mint_key();
    db.write_conn(|c| {
        admin::insert_api_key(
            c,
            admin::NewApiKey {
                tenant_id: tenant.get(),
                id: &key.id,
                key_hash: &key.hash,
                scopes,
                party_id: party,
                expires_at: None,
            },
        )
    })
    .expect("insert key");
    (key.secret, key.id)
}

impl TestServer {
    /// Starts a server on `t` with every dialect mounted.
    pub fn start(t: TestDb) -> TestServer {
        Self::start_with(t, Dialects::all())
    }

    /// Starts a server on `t` with a custom per-key rate limit.
    pub fn start_limited(t: TestDb, limit: invoice_adapters::inbound::http::rate_limit::RateLimit) -> TestServer {
        Self::start_state(t, Dialects::all(), |s| s.with_rate_limit(limit))
    }

    /// Starts a server on `t` with the given dialects.
    pub fn start_with(t: TestDb, dialects: Dialects) -> TestServer {
        Self::start_state(t, dialects, |s| s)
    }

    /// Starts a server on `t`, letting `customize` adjust the state.
    pub fn start_state(t: TestDb, dialects: Dialects, customize: impl FnOnce(AppState) -> AppState) -> TestServer {
        let db = t.db.clone();
        let tenant = crate::support::tenant(&db, "acme");
        let (key, key_id) = create_key_with_id(&db, tenant, &auth::ALL_SCOPES.join(","), None);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        let state = web::Data::new(customize(AppState::new(db.clone(), dialects)));
        let shared = state.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let config = ServerConfig {
                    workers: 2,
                    ..ServerConfig::default()
                };
                let server = http::serve(state, listener, config).expect("serve");
                tx.send(server.handle()).expect("send handle");
                let _ = server.await;
            });
        });
        let handle = rx.recv_timeout(Duration::from_secs(10)).expect("server started");
        TestServer {
            base: format!("http://127.0.0.1:{port}"),
            key,
            key_id,
            tenant,
            backend: t.backend,
            db,
            state: shared,
            handle,
            _db: t,
        }
    }

    /// Creates another tenant with an all-scope key.
    pub fn other_tenant(&self, slug: &str) -> (TenantId, String) {
        let tenant = crate::support::tenant(&self.db, slug);
        let key = create_key(&self.db, tenant, &auth::ALL_SCOPES.join(","), None);
        (tenant, key)
    }

    /// Creates a key of `acme` with `scopes` and an optional party.
    pub fn key_with(&self, scopes: &str, party: Option<&str>) -> String {
        create_key(&self.db, self.tenant, scopes, party)
    }

    /// A request to `path` with the default key as Bearer.
    pub fn req(&self, method: &str, path: &str) -> Req {
        Req::new(method, &format!("{}{}", self.base, path)).bearer(&self.key)
    }

    /// A request to `path` without credentials.
    pub fn anon(&self, method: &str, path: &str) -> Req {
        Req::new(method, &format!("{}{}", self.base, path))
    }
}

/// A request being built.
pub struct Req {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

/// A response: status, lower-cased headers, body as text and JSON.
#[derive(Debug, Clone)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: HashMap<String, String>,
    /// Raw body.
    pub text: String,
    /// Body parsed as JSON (`Null` when it is not JSON).
    pub json: serde_json::Value,
}

impl Resp {
    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// The problem+json `code`, or the JSON `errorCode` of dialect envelopes.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_default()
    }
}

impl Req {
    /// Starts a request.
    pub fn new(method: &str, url: &str) -> Self {
        Req {
            method: method.to_string(),
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets `Authorization: Bearer`.
    pub fn bearer(self, key: &str) -> Self {
        self.header("Authorization", &format!("Bearer {key}"))
    }

    /// Sets a JSON body.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.raw("application/json", value.to_string().as_bytes())
    }

    /// Sets a raw body with its content type.
    pub fn raw(mut self, content_type: &str, body: &[u8]) -> Self {
        self.body = Some(body.to_vec());
        self.header("Content-Type", content_type)
    }

    /// Sends it and reads the whole response.
    pub fn send(self) -> Resp {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut builder = ureq::http::Request::builder()
            .method(self.method.as_str())
            .uri(&self.url);
        for (n, v) in &self.headers {
            builder = builder.header(n, v);
        }
        let result = match self.body {
            Some(body) => agent.run(builder.body(body).expect("request")),
            None => agent.run(builder.body(()).expect("request")),
        };
        let mut resp = result.expect("HTTP request failed");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }
}

/// A create body with two lines (product `a`: 1 × 100.00 at 19 %, `b`: 2 × 12.50 at 7 %).
pub fn invoice_body() -> serde_json::Value {
    serde_json::json!({
        "currency": "EUR",
        "customer": {"id": "cust-1", "name": "Customer GmbH", "email": "ap@customer.example", "tax_number": "DE123"},
        "issuer": {"id": "trp-1", "name": "Transporter Ltd"},
        "lines": [
            {"product_id": "a", "description": "Freight", "quantity": 1, "unit_amount": 10000, "tax_rate": "19"},
            {"product_id": "b", "variation_id": "b-1", "description": "Toll", "quantity": 2, "unit_amount": 1250, "tax_rate": "7"}
        ],
        "metadata": {"loadCount": "3"}
    })
}

impl TestServer {
    /// Creates a draft from `body` and returns its JSON.
    pub fn create(&self, body: &serde_json::Value) -> serde_json::Value {
        let r = self.req("POST", "/v1/invoices").json(body).send();
        assert_eq!(r.status, 201, "{}: create failed: {}", self.backend, r.text);
        r.json
    }

    /// Creates and finalizes an invoice from `body`.
    pub fn open(&self, body: &serde_json::Value) -> serde_json::Value {
        let d = self.create(body);
        let r = self
            .req("POST", &format!("/v1/invoices/{}/finalize", d["id"].as_str().unwrap()))
            .send();
        assert_eq!(r.status, 200, "{}: finalize failed: {}", self.backend, r.text);
        r.json
    }
}

/// Percent-encodes `text` as one path segment: every byte but the
/// unreserved characters, as a client library would.
pub fn encode_path(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
