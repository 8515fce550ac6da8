//! The blocking HTTP client that POSTs one signed delivery: no redirects,
//! no proxy, a hard timeout, the SSRF-guarded resolver, and a capped read
//! of the response body.

use std::io::Read;
use std::time::{Duration, Instant};

use ureq::unversioned::transport::DefaultConnector;
use ureq::Agent;

use super::guard::{GuardedResolver, ResolveRefused};
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
                if let Err(e) = &read {
                    tracing::debug!(error = %e, "reading a webhook response failed");
                }
                let error = read
                    .err()
                    .map(|_| FailureClass::ResponseUnreadable.message().to_string());
                let status = resp.status().as_u16();
                // A 2xx whose body could not be read still counts as delivered.
                (Some(status), error.filter(|_| !(200..300).contains(&status)), body)
            }
            Err(e) => {
                // The raw error may name internal hosts, addresses or OS
                // details: it goes to the operator's debug log only.
                tracing::debug!(error = %e, "webhook request failed");
                (None, Some(FailureClass::of(&e).message().to_string()), None)
            }
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

/// Why an attempt got no usable answer, as the fixed text the delivery log
/// keeps: a short class name and one sentence, never the underlying error's
/// own words (they can name internal hosts, addresses and OS details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// No complete answer within the timeout.
    Timeout,
    /// The host name did not resolve.
    HostNotFound,
    /// The host is, or resolves to, a non-public address.
    NonPublicAddress,
    /// The receiver refused the TCP connection.
    ConnectionRefused,
    /// The connection was reset or closed early.
    ConnectionClosed,
    /// Any other failure to connect.
    ConnectionFailed,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The answer was not valid HTTP.
    Protocol,
    /// The answer's body could not be read.
    ResponseUnreadable,
    /// The event could not be rendered or signed.
    NotRendered,
    /// Anything else.
    Other,
}

impl FailureClass {
    /// Classifies a ureq error.
    pub fn of(e: &ureq::Error) -> FailureClass {
        use std::io::ErrorKind;
        match e {
            ureq::Error::Timeout(_) => FailureClass::Timeout,
            ureq::Error::HostNotFound => FailureClass::HostNotFound,
            ureq::Error::ConnectionFailed => FailureClass::ConnectionFailed,
            ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => FailureClass::Tls,
            ureq::Error::Protocol(_) => FailureClass::Protocol,
            ureq::Error::Io(io) => match io.kind() {
                ErrorKind::TimedOut | ErrorKind::WouldBlock => FailureClass::Timeout,
                ErrorKind::ConnectionRefused => FailureClass::ConnectionRefused,
                ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof => FailureClass::ConnectionClosed,
                _ => FailureClass::ConnectionFailed,
            },
            ureq::Error::Other(inner) => match inner.downcast_ref::<ResolveRefused>() {
                Some(ResolveRefused::NonPublic) => FailureClass::NonPublicAddress,
                Some(ResolveRefused::NotFound) => FailureClass::HostNotFound,
                None => FailureClass::Other,
            },
            _ => FailureClass::Other,
        }
    }

    /// The text stored as the attempt's error.
    pub fn message(self) -> &'static str {
        match self {
            FailureClass::Timeout => "timeout: no complete answer in time",
            FailureClass::HostNotFound => "host_not_found: the host name did not resolve",
            FailureClass::NonPublicAddress => {
                "non_public_address: refused to connect, the host is or resolves to a non-public (loopback, private, link-local or reserved) address"
            }
            FailureClass::ConnectionRefused => "connection_refused: the receiver refused the connection",
            FailureClass::ConnectionClosed => "connection_closed: the connection was closed before the answer was complete",
            FailureClass::ConnectionFailed => "connection_failed: no connection could be made",
            FailureClass::Tls => "tls_failed: the TLS handshake or certificate check failed",
            FailureClass::Protocol => "protocol_error: the answer was not valid HTTP",
            FailureClass::ResponseUnreadable => "response_unreadable: the answer's body could not be read",
            FailureClass::NotRendered => "not_rendered: the event could not be rendered or signed",
            FailureClass::Other => "request_failed: the request failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_reported_as_fixed_classes_without_the_error_text() {
        use std::io::{Error, ErrorKind};
        let secret_detail = "lookup of intranet-db.corp (10.1.2.3) failed: os error 111";
        let cases = [
            (ureq::Error::HostNotFound, "host_not_found"),
            (ureq::Error::Other(Box::new(ResolveRefused::NotFound)), "host_not_found"),
            (
                ureq::Error::Other(Box::new(ResolveRefused::NonPublic)),
                "non_public_address",
            ),
            (ureq::Error::Timeout(ureq::Timeout::Global), "timeout"),
            (
                ureq::Error::Io(Error::new(ErrorKind::ConnectionRefused, secret_detail)),
                "connection_refused",
            ),
            (
                ureq::Error::Io(Error::new(ErrorKind::ConnectionReset, secret_detail)),
                "connection_closed",
            ),
            (ureq::Error::Io(Error::other(secret_detail)), "connection_failed"),
            (ureq::Error::Other(secret_detail.into()), "request_failed"),
        ];
        for (error, class) in cases {
            let message = FailureClass::of(&error).message();
            assert!(message.starts_with(&format!("{class}: ")), "{error}: {message}");
            assert!(
                !message.contains("10.1.2.3") && !message.contains("os error"),
                "{message}"
            );
        }
    }
}
