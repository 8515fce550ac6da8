//! The blocking HTTP client that POSTs one signed delivery: no redirects,
//! no proxy, a hard timeout, the SSRF-guarded resolver, and a capped read
//! of the response body.

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::unversioned::transport::DefaultConnector;
use ureq::Agent;

use super::guard::GuardedResolver;
use super::store::Outcome;

/// How much of a response body is kept for the delivery log.
pub const MAX_RESPONSE_BODY: u64 = 4096;

/// The headers and body of one signed request.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// Target URL.
    pub url: String,
    /// `webhook-id`: the event id.
    pub id: String,
    /// `webhook-timestamp`: unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`: space-separated `v1,…` entries.
    pub signature: String,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// Sends deliveries over one agent.
#[derive(Debug)]
pub struct Sender {
    agent: Agent,
}

impl Sender {
    /// A client with a `timeout` for the whole exchange; private targets are
    /// refused after resolution unless `allow_private`.
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(timeout))
            .user_agent("Storno-Webhooks/1")
            .build();
        let agent = Agent::with_parts(config, DefaultConnector::default(), GuardedResolver::new(allow_private));
        Sender { agent }
    }

    /// POSTs the request and reports what came of it; never panics, never
    /// follows a redirect (a 3xx is a failure like any non-2xx).
    pub fn send(&self, req: &SignedRequest, attempted_at: chrono::NaiveDateTime) -> Outcome {
        let started = Instant::now();
        let result = self
            .agent
            .post(&req.url)
            .header("content-type", "application/json")
            .header("webhook-id", &req.id)
            .header("webhook-timestamp", req.timestamp.to_string())
            .header("webhook-signature", &req.signature)
            .send(&req.body[..]);
        let (status_code, error, response_body) = match result {
            Ok(mut resp) => {
                let mut buf = Vec::new();
                let read = resp
                    .body_mut()
                    .as_reader()
                    .take(MAX_RESPONSE_BODY)
                    .read_to_end(&mut buf);
                let body = (!buf.is_empty()).then(|| String::from_utf8_lossy(&buf).into_owned());
                let error = read.err().map(|e| format!("reading the response failed: {e}"));
                let status = resp.status().as_u16();
                // A 2xx whose body could not be read still counts as delivered.
                (Some(status), error.filter(|_| !(200..300).contains(&status)), body)
            }
            Err(e) => (None, Some(describe(&e)), None),
        };
        Outcome {
            attempted_at,
            duration_ms: started.elapsed().as_millis() as i64,
            status_code,
            error,
            response_body,
        }
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("timed out: {e}"),
        ureq::Error::Other(inner) => inner.to_string(),
        other => format!("connection failed: {other}"),
    }
}
