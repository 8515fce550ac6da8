//! RFC 9457 problem+json errors with stable codes, the HTTP face of every failure.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use invoice_domain::{Action, Incomplete, Refusal, RepositoryError, UseCaseError, ValidationError};
use serde::Serialize;
use utoipa::ToSchema;

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
    pub code: &'static str,
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
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
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
                "validation_failed",
                format!("{field} {message}"),
            )
        }
    }

    /// 401 for a missing or unknown key.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 500 that leaks nothing; the cause is logged here.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
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
                "service_unavailable",
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
            type_uri: format!("https://storno.dev/problems/{}", self.code.replace('_', "-")),
            title: self.title(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
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
        "method_not_allowed",
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
                "version_mismatch",
                "the invoice was changed concurrently",
            ),
            // The client's own reference is taken: a decision on the
            // request, the same on every retry.
            RepositoryError::UniqueViolation(constraint) if constraint.contains("external_reference") => ApiError::new(
                StatusCode::CONFLICT,
                "external_reference_taken",
                "another invoice of this tenant has this external_reference",
            ),
            // A printed number can only repeat when the tenant changed its
            // number format to one that prints an earlier number again.
            RepositoryError::UniqueViolation(constraint) if constraint.ends_with("number") => ApiError::new(
                StatusCode::CONFLICT,
                "number_taken",
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
                        "concurrent_conflict",
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
                "credit_note_not_found"
            } else {
                "invoice_not_found"
            },
            format!("no such {what}"),
        ),
        UseCaseError::NotOwned => ApiError::new(
            StatusCode::FORBIDDEN,
            "invoice_not_owned",
            "this invoice belongs to another party",
        ),
        UseCaseError::NotPermitted(action) => {
            ApiError::new(StatusCode::FORBIDDEN, "invoice_not_owned", not_permitted_detail(action))
        }
        UseCaseError::VersionMismatch {
            expected: Some(expected),
            current,
        } => ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "version_mismatch",
            format!(
                "If-Match expected version {expected} but the invoice is at version {}",
                current.map_or_else(|| "unknown".to_string(), |c| c.to_string())
            ),
        ),
        UseCaseError::VersionMismatch { expected: None, .. } => ApiError::new(
            StatusCode::CONFLICT,
            "version_mismatch",
            "the invoice was changed by a concurrent request; reload and retry",
        ),
        UseCaseError::Refused(Refusal::DocumentIncomplete(incomplete)) => document_incomplete(&incomplete),
        UseCaseError::Refused(r) => ApiError::new(StatusCode::CONFLICT, r.code(), r.to_string()),
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
            "document_incomplete",
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
    fn a_unique_violation_is_a_retryable_409_never_a_500() {
        let e = ApiError::from(RepositoryError::UniqueViolation("invoices_pkey".into()));
        assert_eq!(
            (e.status, e.code, e.retry_after),
            (StatusCode::CONFLICT, "concurrent_conflict", Some(1))
        );
        assert!(!e.detail.contains("invoices_pkey"), "the constraint name is not leaked");
        let e = from_use_case(
            UseCaseError::Repository(RepositoryError::UniqueViolation("x".into())),
            "invoice",
        );
        assert_eq!(e.status, StatusCode::CONFLICT);
    }
}
