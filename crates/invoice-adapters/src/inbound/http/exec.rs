//! Running use cases off the async executor: one `web::block` per request,
//! with idempotency keys handled in the same transaction as the write.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use invoice_domain::{InvoiceRef, RepositoryError, UseCaseError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::principal::Principal;
use super::problem::{ApiError, ErrorCode};
use super::state::AppState;
use crate::outbound::db::DieselStore;
use crate::ports::{Claim, IdempotencyRecords, Owner, ReplyRecorder, StoredReply};

/// Runs blocking work on the blocking thread pool inside the current
/// tracing span, so log lines written there still carry the request id.
pub async fn blocking<F, R>(work: F) -> Result<R, actix_web::error::BlockingError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    web::block(move || span.in_scope(work)).await
}

/// A rendered response, storable under an idempotency key.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Content type.
    pub content_type: String,
    /// Body.
    pub body: String,
    /// Invoice version for `ETag`.
    pub etag: Option<u64>,
    /// True when replayed from an idempotency key.
    pub replayed: bool,
    /// True when the body shows a secret (a webhook signing secret): stored
    /// under an idempotency key, it is sealed like the secret itself.
    pub secret: bool,
}

impl Reply {
    /// A JSON reply.
    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
        Reply {
            status,
            content_type: "application/json".into(),
            body: serde_json::to_string(value).unwrap_or_default(),
            etag: None,
            replayed: false,
            secret: false,
        }
    }

    /// Marks the body as showing a secret, so that an idempotency record
    /// keeps it sealed at rest.
    pub fn holding_a_secret(mut self) -> Reply {
        self.secret = true;
        self
    }

    /// This reply as an idempotency record keeps it, with `body` as stored.
    fn stored(&self, body: String) -> StoredReply {
        StoredReply {
            status: self.status.as_u16(),
            body,
            content_type: self.content_type.clone(),
        }
    }

    /// Sets the `ETag` version.
    pub fn with_etag(mut self, version: u64) -> Reply {
        self.etag = Some(version);
        self
    }

    /// Turns the reply into a response.
    pub fn into_response(self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::CONTENT_TYPE, self.content_type));
        if let Some(v) = self.etag {
            resp.insert_header((header::ETAG, format!("\"{v}\"")));
        }
        if self.replayed {
            resp.insert_header(("Idempotent-Replayed", HeaderValue::from_static("true")));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.insert_header((
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"storno\", Basic realm=\"storno\"",
            ));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE || self.status == StatusCode::TOO_MANY_REQUESTS {
            resp.insert_header((header::RETRY_AFTER, "1"));
        }
        resp.body(self.body)
    }
}

/// Renders an error in an API's own envelope.
pub type ErrorRenderer = fn(&ApiError) -> Reply;

/// The `/v1` renderer: RFC 9457 problem+json.
pub fn problem_reply(e: &ApiError) -> Reply {
    Reply {
        status: e.status,
        content_type: "application/problem+json".into(),
        body: serde_json::to_string(&e.problem(None)).unwrap_or_default(),
        etag: None,
        replayed: false,
        secret: false,
    }
}

/// A validated `Idempotency-Key`, the caller who sent it and the
/// fingerprint of its request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    owner: Owner,
    key: String,
    request_hash: String,
}

/// True for a well-formed `Idempotency-Key`: 1 to 255 printable ASCII
/// characters (spaces inside only), the contract's
/// `^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$`. Tabs and other bytes that
/// HTTP allows in a header value are refused.
fn is_idempotency_key(key: &[u8]) -> bool {
    (1..=255).contains(&key.len())
        && key.iter().all(|b| (0x20..=0x7E).contains(b))
        && key.first() != Some(&b' ')
        && key.last() != Some(&b' ')
}

/// Reads `Idempotency-Key` (1 to 255 printable ASCII characters) and
/// fingerprints the request (method, path and body). The key is scoped to
/// `caller`'s API key: a replay only ever goes back to the key that made
/// the request.
pub fn idempotency_key(req: &HttpRequest, caller: &Principal, body: &[u8]) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = match value.to_str() {
        Ok(key) if is_idempotency_key(key.as_bytes()) => key,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 1 to 255 printable ASCII characters, without tabs or surrounding spaces",
            ))
        }
    };
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update(b" ");
    h.update(req.path().as_bytes());
    h.update(b"\n");
    h.update(body);
    Ok(Some(IdempotencyKey {
        owner: Owner {
            tenant: caller.tenant,
            api_key_id: caller.key_id.clone(),
        },
        key: key.to_string(),
        request_hash: hex::encode(h.finalize()),
    }))
}

impl IdempotencyKey {
    /// The context a stored reply showing a secret is sealed under: only
    /// this caller's record with this key opens it.
    fn reply_context(&self) -> String {
        format!(
            "storno idempotent reply v1 {} {} {}",
            self.owner.tenant.get(),
            self.owner.api_key_id,
            self.key
        )
    }
}

/// Reads `If-Match: "<version>"` (or its weak form `W/"<version>"`); `*` or
/// no header means no expectation. Anything else, a bare `3` included, is
/// 400: an ETag is quoted, and guessing at a malformed one could apply a
/// write to the wrong version.
pub fn if_match(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    parse_if_match(v.as_bytes()).map_err(|()| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidIfMatch,
            "If-Match must be `*` or an ETag like \"3\"",
        )
    })
}

/// The version an `If-Match` value names: `*` is none, `"7"` and `W/"7"`
/// are 7 (1 to 19 digits, as the contract's pattern says).
fn parse_if_match(value: &[u8]) -> Result<Option<u64>, ()> {
    let text = std::str::from_utf8(value).map_err(|_| ())?.trim_matches([' ', '\t']);
    if text == "*" {
        return Ok(None);
    }
    let digits = text
        .strip_prefix("W/")
        .unwrap_or(text)
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or(())?;
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    digits.parse().map(Some).map_err(|_| ())
}

/// Parses an invoice reference from the path: a UUID, a document number or
/// an external reference. Only a reference that cannot name any invoice is
/// 400; one that names none is a 404 later.
pub fn parse_ref(text: &str) -> Result<InvoiceRef, ApiError> {
    InvoiceRef::parse(text).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPathParameter,
            format!("the invoice reference {}", e.message),
        )
    })
}

/// Why a write transaction did not commit.
enum Abort {
    Api(ApiError),
    Repo(RepositoryError),
}

impl From<RepositoryError> for Abort {
    fn from(e: RepositoryError) -> Self {
        Abort::Repo(e)
    }
}

/// Runs `work` in one write transaction inside one `web::block`.
///
/// With an idempotency key (scoped to the calling API key): a new key is
/// claimed first; a finished one replays its stored reply; another request's
/// key gets 422 `idempotency_key_reused`; a key in flight gets 409
/// `idempotency_key_in_use`. A successful reply is stored in the same
/// transaction as the write, so a crash can never record one without the
/// other. Of the failures, only the use case's own decisions are stored
/// (see [`is_stored_outcome`]); every other failure releases the key, so it
/// never blocks the next attempt.
pub async fn write<F>(
    state: &web::Data<AppState>,
    idem: Option<IdempotencyKey>,
    render_error: ErrorRenderer,
    work: F,
) -> HttpResponse
where
    F: FnOnce(&AppState, &mut DieselStore<'_>) -> Result<Reply, ApiError> + Send + 'static,
{
    let st = state.clone();
    let reply = blocking(move || run_write(&st, idem, render_error, work)).await;
    match reply {
        Ok(r) => r.into_response(),
        Err(e) => render_error(&ApiError::internal(&e)).into_response(),
    }
}

fn run_write<F>(state: &AppState, idem: Option<IdempotencyKey>, render: ErrorRenderer, work: F) -> Reply
where
    F: FnOnce(&AppState, &mut DieselStore<'_>) -> Result<Reply, ApiError>,
{
    if let Some(k) = &idem {
        let claim = state.db.claim(
            &k.owner,
            &k.key,
            &k.request_hash,
            Utc::now(),
            state.idempotency_retention,
        );
        match claim {
            Ok(Claim::Claimed) => {}
            Ok(Claim::Replay(stored)) => {
                let body = match state.secrets.open(&k.reply_context(), &stored.body) {
                    Ok(body) => body,
                    Err(e) => return render(&ApiError::internal(&e)),
                };
                return Reply {
                    status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
                    content_type: stored.content_type,
                    body,
                    etag: None,
                    replayed: true,
                    secret: false,
                };
            }
            Ok(Claim::Mismatch) => {
                return render(&ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::IdempotencyKeyReused,
                    "this Idempotency-Key was used with a different request",
                ))
            }
            Ok(Claim::InUse) => {
                return render(&ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::IdempotencyKeyInUse,
                    "a request with this Idempotency-Key is still being processed",
                ))
            }
            Err(e) => return render(&e.into()),
        }
    }
    let outcome = state.db.write(|store| {
        let reply = work(state, store).map_err(Abort::Api)?;
        if let Some(k) = &idem {
            let body = if reply.secret {
                state.secrets.seal(&k.reply_context(), &reply.body)
            } else {
                reply.body.clone()
            };
            store.record_reply(&k.owner, &k.key, &reply.stored(body))?;
        }
        Ok::<_, Abort>(reply)
    });
    match outcome {
        Ok(reply) => reply,
        Err(abort) => {
            let error = match abort {
                Abort::Api(e) => e,
                Abort::Repo(e) => e.into(),
            };
            let reply = render(&error);
            if let Some(k) = &idem {
                // Best effort: a record left claimed expires after its lock.
                let _ = if is_stored_outcome(&error) {
                    state.db.complete(&k.owner, &k.key, &reply.stored(reply.body.clone()))
                } else {
                    state.db.release(&k.owner, &k.key)
                };
            }
            reply
        }
    }
}

/// True for the failures an idempotency record keeps, so that a retry gets
/// the same answer: the use case's own decisions on the request, that is a
/// rule's refusal (409 with the rule's code) and invalid input (422).
///
/// Everything else releases the key: answers decided before the use case
/// ran (401, 403, 404 on the target, 412, 429), a lost race (409
/// `version_mismatch` or `concurrent_conflict`) and the infrastructure's
/// failures (5xx). Storing those would let one failed attempt, or another
/// caller's probe, decide the outcome of the next attempt.
pub fn is_stored_outcome(error: &ApiError) -> bool {
    match error.status {
        StatusCode::CONFLICT => !matches!(
            error.code,
            ErrorCode::VersionMismatch | ErrorCode::IdempotencyKeyInUse | ErrorCode::ConcurrentConflict
        ),
        StatusCode::UNPROCESSABLE_ENTITY => error.code != ErrorCode::IdempotencyKeyReused,
        _ => false,
    }
}

/// Runs a read-only use case in one read transaction inside one `web::block`.
pub async fn read<T, F>(state: &web::Data<AppState>, work: F) -> Result<T, UseCaseError>
where
    T: Send + 'static,
    F: FnOnce(&AppState, &mut DieselStore<'_>) -> Result<T, UseCaseError> + Send + 'static,
{
    let st = state.clone();
    blocking(move || st.db.read(|store| work(&st, store)))
        .await
        .map_err(|e| UseCaseError::Repository(RepositoryError::Other(e.to_string())))?
}

/// Runs a read use case whose loads are single statements, with no
/// transaction around it (see `Database::read_single`).
pub async fn read_single<T, F>(state: &web::Data<AppState>, work: F) -> Result<T, UseCaseError>
where
    T: Send + 'static,
    F: FnOnce(&AppState, &mut DieselStore<'_>) -> Result<T, UseCaseError> + Send + 'static,
{
    let st = state.clone();
    blocking(move || st.db.read_single(|store| work(&st, store)))
        .await
        .map_err(|e| UseCaseError::Repository(RepositoryError::Other(e.to_string())))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_printable_ascii_as_the_contract_says() {
        for ok in ["a", "order-4711", "a b", "~!", &"k".repeat(255)] {
            assert!(is_idempotency_key(ok.as_bytes()), "{ok:?}");
        }
        for bad in ["", " a", "a ", "a\tb", "\t", "caf\u{e9}", "a\u{7f}", &"k".repeat(256)] {
            assert!(!is_idempotency_key(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn if_match_takes_quoted_etags_and_the_wildcard_only() {
        assert_eq!(parse_if_match(b"\"3\""), Ok(Some(3)));
        assert_eq!(parse_if_match(b"W/\"12\""), Ok(Some(12)));
        assert_eq!(parse_if_match(b" \"0\" "), Ok(Some(0)));
        assert_eq!(parse_if_match(b"*"), Ok(None));
        for bad in [
            &b"3"[..],
            b"\"\"",
            b"\"3",
            b"3\"",
            b"\"-1\"",
            b"\"+1\"",
            b"\"1 \"",
            b"W/3",
            b"\"99999999999999999999\"",
            b"\"18446744073709551616\"",
            b"\xff",
        ] {
            assert_eq!(parse_if_match(bad), Err(()), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
