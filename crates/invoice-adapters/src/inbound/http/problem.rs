//! RFC 9457 problem+json errors with stable codes, the HTTP face of every failure.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use invoice_domain::{Action, Incomplete, Refusal, RefusalCode, RepositoryError, UseCaseError, ValidationError};
use serde::Serialize;
use utoipa::ToSchema;

/// Defines [`ErrorCode`] and its wire text from one list, so each code's
/// name and text stand side by side once.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// The stable code of an HTTP error, as every face sends it (`code`
        /// in problem+json, the dialects' envelopes): a typo in a code is a
        /// compile error, not a new wire string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            /// A rule's refusal, by the domain's own kind (`Refusal::kind`).
            Refused(RefusalCode),
        }

        impl ErrorCode {
            /// The snake_case wire text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                    ErrorCode::Refused(kind) => kind.as_str(),
                }
            }

            /// Every code but the refusals, for tests.
            #[cfg(test)]
            const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];
        }
    };
}

error_codes! {
    /// No key, or one that is not known.
    Unauthorized = "unauthorized",
    /// The key lacks the scope the route needs.
    InsufficientScope = "insufficient_scope",
    /// `X-Tenant` names another tenant than the key's.
    TenantMismatch = "tenant_mismatch",
    /// The key serves several tenants and `X-Tenant` is missing.
    MissingTenant = "missing_tenant",
    /// A party key asked for what only a tenant key may do.
    PartyRestrictedKey = "party_restricted_key",
    /// The key's rate limit.
    RateLimited = "rate_limited",
    /// The body is not JSON.
    MalformedJson = "malformed_json",
    /// The body nests deeper than the limit.
    JsonTooDeep = "json_too_deep",
    /// The body has a field the route does not take.
    UnknownField = "unknown_field",
    /// The body lacks a required field.
    MissingField = "missing_field",
    /// A value of the wrong JSON type, or a body that is not an object.
    InvalidType = "invalid_type",
    /// A value of the right type that its field refuses.
    InvalidValue = "invalid_value",
    /// Fields that parsed but are not valid.
    ValidationFailed = "validation_failed",
    /// The body could not be read.
    InvalidBody = "invalid_body",
    /// The body is over the limit.
    PayloadTooLarge = "payload_too_large",
    /// The body is not sent as JSON.
    UnsupportedMediaType = "unsupported_media_type",
    /// The request line is over the limit.
    UriTooLong = "uri_too_long",
    /// The headers are over the limit.
    HeadersTooLarge = "headers_too_large",
    /// A path segment that names nothing.
    InvalidPathParameter = "invalid_path_parameter",
    /// A bad or unknown query parameter.
    InvalidQueryParameter = "invalid_query_parameter",
    /// A dialect's invoice id that cannot name an invoice.
    InvalidInvoiceId = "invalid_invoice_id",
    /// An `If-Match` that is neither a quoted version nor `*`.
    InvalidIfMatch = "invalid_if_match",
    /// An `Idempotency-Key` outside its alphabet or length.
    InvalidIdempotencyKey = "invalid_idempotency_key",
    /// The key was used with another request.
    IdempotencyKeyReused = "idempotency_key_reused",
    /// A request with the key is still running.
    IdempotencyKeyInUse = "idempotency_key_in_use",
    /// No route at this path.
    RouteNotFound = "route_not_found",
    /// The route does not serve the method.
    MethodNotAllowed = "method_not_allowed",
    /// No such invoice in the tenant.
    InvoiceNotFound = "invoice_not_found",
    /// No such credit note in the tenant.
    CreditNoteNotFound = "credit_note_not_found",
    /// No such event in the tenant.
    EventNotFound = "event_not_found",
    /// The key's party may not act on the invoice.
    InvoiceNotOwned = "invoice_not_owned",
    /// The invoice changed since the caller read it.
    VersionMismatch = "version_mismatch",
    /// A concurrent request wrote the same record.
    ConcurrentConflict = "concurrent_conflict",
    /// Another invoice has the external reference.
    ExternalReferenceTaken = "external_reference_taken",
    /// The number format prints a number issued before.
    NumberTaken = "number_taken",
    /// The e-invoice lacks fields its profile requires.
    DocumentIncomplete = "document_incomplete",
    /// A webhook URL the SSRF guard refuses.
    WebhookUrlNotAllowed = "webhook_url_not_allowed",
    /// No such webhook endpoint.
    WebhookEndpointNotFound = "webhook_endpoint_not_found",
    /// The webhook endpoint is disabled.
    WebhookEndpointDisabled = "webhook_endpoint_disabled",
    /// No such webhook delivery.
    WebhookDeliveryNotFound = "webhook_delivery_not_found",
    /// The tenant has as many endpoints as it may.
    TooManyWebhookEndpoints = "too_many_webhook_endpoints",
    /// A failure that is the server's fault.
    InternalError = "internal_error",
    /// The database cannot be reached.
    ServiceUnavailable = "service_unavailable",
    /// The database cannot be reached (a dialect's test).
    DatabaseUnavailable = "database_unavailable",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid field in a validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `lines[0].quantity`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// One field an e-invoice lacks, in a `document_incomplete` problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MissingField {
    /// Where to set it, e.g. `seller.vat_id` (`/v1/tenant`), `issuer.tax_number` or `customer.address.country` (the invoice).
    pub field: String,
    /// The EN 16931 business term, e.g. `BT-31`.
    pub term: String,
    /// The rule that needs it, e.g. `BR-S-02`.
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

/// The problem+json body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// Stable snake_case code for programs.
    pub code: String,
    /// The request id (also in `X-Request-Id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// What an e-invoice lacks, for `document_incomplete`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<MissingField>,
}

/// An error answered as problem+json.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: ErrorCode,
    /// Explanation.
    pub detail: String,
    /// Invalid fields.
    pub errors: Vec<FieldError>,
    /// What an e-invoice lacks.
    pub missing: Vec<MissingField>,
    /// Seconds for `Retry-After`, when set.
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            missing: Vec::new(),
            retry_after: None,
        }
    }

    /// 422 with one invalid field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        ApiError {
            errors: vec![FieldError {
                field: field.clone(),
                message: message.clone(),
            }],
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                format!("{field} {message}"),
            )
        }
    }

    /// 401 for a missing or unknown key.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, detail)
    }

    /// 500 that leaks nothing; the cause is logged here.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "an unexpected error occurred",
        )
    }

    /// 503 with `Retry-After`.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "service unavailable");
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ServiceUnavailable,
                "the database is unavailable; retry shortly",
            )
        }
    }

    /// A short title for the status.
    pub fn title(&self) -> String {
        self.status.canonical_reason().unwrap_or("Error").to_string()
    }

    /// The body for `request_id`.
    pub fn problem(&self, request_id: Option<String>) -> Problem {
        Problem {
            type_uri: format!("https://storno.dev/problems/{}", self.code.as_str().replace('_', "-")),
            title: self.title(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_string(),
            request_id,
            errors: self.errors.clone(),
            missing: self.missing.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"storno\", Basic realm=\"storno\""),
            ));
        }
        // The request id is filled in by the request-id middleware, which
        // rewrites problem bodies; see `middleware::RequestId`.
        resp.body(serde_json::to_string(&self.problem(None)).unwrap_or_default())
    }
}

/// 405 `method_not_allowed` for a method a route does not serve, with
/// `Allow` listing the methods it does (e.g. `"GET, POST"`).
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut resp = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        format!("this route only serves {allow}"),
    )
    .error_response();
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::invalid_field(e.field, e.message)
    }
}

impl From<RepositoryError> for ApiError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::Unavailable(_) => ApiError::unavailable(&e),
            RepositoryError::VersionConflict => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::VersionMismatch,
                "the invoice was changed concurrently",
            ),
            // The client's own reference is taken: a decision on the
            // request, the same on every retry.
            RepositoryError::UniqueViolation(constraint) if constraint.contains("external_reference") => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::ExternalReferenceTaken,
                "another invoice of this tenant has this external_reference",
            ),
            // A printed number can only repeat when the tenant changed its
            // number format to one that prints an earlier number again.
            RepositoryError::UniqueViolation(constraint) if constraint.ends_with("number") => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::NumberTaken,
                "the next number of this format was already issued under an earlier format; \
                     choose a number format that cannot print an earlier number",
            ),
            // Any other unique constraint is only ever met by a race with a
            // concurrent request (every id is generated, every counter is
            // an upsert): the client's request was fine and may be retried.
            RepositoryError::UniqueViolation(constraint) => {
                tracing::info!(%constraint, "unique constraint met by a concurrent request");
                ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::CONFLICT,
                        ErrorCode::ConcurrentConflict,
                        "a concurrent request wrote the same record; retry the request",
                    )
                }
            }
            other => ApiError::internal(&other),
        }
    }
}

/// Maps a use-case error; `what` names the resource for not-found messages.
pub fn from_use_case(e: UseCaseError, what: &'static str) -> ApiError {
    match e {
        UseCaseError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            if what == "credit note" {
                ErrorCode::CreditNoteNotFound
            } else {
                ErrorCode::InvoiceNotFound
            },
            format!("no such {what}"),
        ),
        UseCaseError::NotOwned => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::InvoiceNotOwned,
            "this invoice belongs to another party",
        ),
        UseCaseError::NotPermitted(action) => ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::InvoiceNotOwned,
            not_permitted_detail(action),
        ),
        UseCaseError::VersionMismatch {
            expected: Some(expected),
            current,
        } => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            ErrorCode::VersionMismatch,
            format!(
                "If-Match expected version {expected} but the invoice is at version {}",
                current.map_or_else(|| "unknown".to_string(), |c| c.to_string())
            ),
        ),
        UseCaseError::VersionMismatch { expected: None, .. } => ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::VersionMismatch,
            "the invoice was changed by a concurrent request; reload and retry",
        ),
        UseCaseError::Refused(Refusal::DocumentIncomplete(incomplete)) => document_incomplete(&incomplete),
        UseCaseError::Refused(r) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Refused(r.kind()), r.to_string()),
        UseCaseError::Invalid(v) => v.into(),
        UseCaseError::Repository(r) => r.into(),
    }
}

/// 422 `document_incomplete`, listing each missing field with its BT and BR ids.
pub fn document_incomplete(incomplete: &Incomplete) -> ApiError {
    ApiError {
        missing: incomplete
            .missing
            .iter()
            .map(|m| MissingField {
                field: m.field.clone(),
                term: m.term.to_string(),
                rule: m.rule.to_string(),
                message: m.message.clone(),
            })
            .collect(),
        ..ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::DocumentIncomplete,
            incomplete.to_string(),
        )
    }
}

/// Why a party key was refused an action, naming the side that may take it
/// (the same words on every face).
fn not_permitted_detail(action: Action) -> String {
    if action == Action::Create {
        return "a party-restricted key may only create invoices it issues: issuer.id must be the key's party".into();
    }
    let sides: Vec<&str> = action.roles().iter().map(|r| r.name()).collect();
    format!("only the invoice's {} may {} it", sides.join(" or "), action.verb())
}

impl From<UseCaseError> for ApiError {
    fn from(e: UseCaseError) -> Self {
        from_use_case(e, "invoice")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_words() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{text}");
            assert!(seen.insert(text), "{text} twice");
        }
        // A refusal's code never reads as another error, save the one the
        // two share on purpose: an incomplete document is answered as
        // `ErrorCode::DocumentIncomplete`, never as a refusal.
        for kind in RefusalCode::ALL {
            let text = ErrorCode::Refused(*kind).as_str();
            assert!(
                !seen.contains(text) || *kind == RefusalCode::DocumentIncomplete,
                "{text} is also an error code"
            );
        }
    }

    #[test]
    fn a_unique_violation_is_a_retryable_409_never_a_500() {
        let e = ApiError::from(RepositoryError::UniqueViolation("invoices_pkey".into()));
        assert_eq!(
            (e.status, e.code, e.retry_after),
            (StatusCode::CONFLICT, ErrorCode::ConcurrentConflict, Some(1))
        );
        assert!(!e.detail.contains("invoices_pkey"), "the constraint name is not leaked");
        let e = from_use_case(
            UseCaseError::Repository(RepositoryError::UniqueViolation("x".into())),
            "invoice",
        );
        assert_eq!(e.status, StatusCode::CONFLICT);
    }
}
