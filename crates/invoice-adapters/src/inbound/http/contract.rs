//! The parts of the HTTP contract that many routes share, written once:
//! the invoice reference and request headers as parameter sets (every
//! face), and `/v1`'s answers as response sets, so that a route names the
//! kind it is and spells out only what is its own.
//!
//! utoipa takes only literals for `pattern` and `description`, so each
//! pattern stands here once; a test checks it against the constant the
//! views use.

// The response enums are never built: they only describe answers.
#![allow(dead_code)]

use utoipa::{IntoParams, IntoResponses};

use crate::inbound::http::problem::Problem;
use crate::inbound::http::views::InvoiceView;

/// The invoice a route acts on.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct InvoicePath {
    /// Invoice UUID, number (e.g. `INV-000052`) or external reference
    #[param(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub reference: String,
}

/// `If-Match`, for the optimistic concurrency of a change.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatchHeader {
    /// Expected version, e.g. `"3"`, or `*`
    #[param(rename = "If-Match", nullable = false, pattern = r#"^(?:\*|(?:W/)?"[0-9]{1,19}")$"#)]
    pub if_match: Option<String>,
}

/// `Idempotency-Key`, on every write.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Makes the request safe to retry: 1 to 255 visible ASCII characters, unique per request
    #[param(
        rename = "Idempotency-Key",
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = r"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$"
    )]
    pub idempotency_key: Option<String>,
}

/// `Accept` and `If-None-Match`, on the document routes.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct DocumentHeaders {
    /// `application/xml` (default) for UBL 2.1, `text/html` for the printable page
    #[param(rename = "Accept", nullable = false)]
    pub accept: Option<String>,
    /// An `ETag` of this document: 304 when it still matches
    #[param(rename = "If-None-Match", nullable = false)]
    pub if_none_match: Option<String>,
}

/// Declares response sets of problems: each variant an
/// `application/problem+json` answer with its status, description and
/// optional headers, so a set states only what differs between answers.
macro_rules! problems {
    ($($(#[doc = $doc:literal])* $name:ident {
        $($(#[doc = $vdoc:literal])* $variant:ident = $status:tt, $description:tt $(, headers $headers:tt)?;)+
    })+) => {
        $(
            $(#[doc = $doc])*
            #[derive(IntoResponses)]
            pub enum $name {
                $(
                    $(#[doc = $vdoc])*
                    #[response(status = $status, description = $description,
                        content_type = "application/problem+json" $(, headers $headers)?)]
                    $variant(Problem),
                )+
            }
        )+
    };
}

problems! {
    /// What every route behind an API key may answer besides its own outcomes.
    Guarded {
        /// No key, or one that is not known.
        Unauthorized = 401, "Missing or unknown key",
            headers(("WWW-Authenticate" = String, description = "The accepted schemes"));
        /// The key's rate limit.
        TooManyRequests = 429, "Too many requests for this key",
            headers(("Retry-After" = String, description = "Seconds to wait before retrying"));
        /// The database cannot be reached.
        Unavailable = 503, "The database is unavailable",
            headers(("Retry-After" = String, description = "Seconds to wait before retrying"));
    }

    /// What a POST on one invoice may answer when it is refused before or
    /// beside the rules: its body, headers and reference, the caller, the
    /// invoice's existence and version.
    ChangeErrors {
        /// Bad JSON, reference or header.
        BadRequest = 400, "Malformed JSON, JSON nested too deep, an empty, over-long or control-character reference or a bad `If-Match`/`Idempotency-Key` header";
        /// Not the caller's to change.
        Forbidden = 403, "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)";
        /// No such invoice.
        NotFound = 404, "No such invoice in this tenant";
        /// A stale `If-Match`.
        PreconditionFailed = 412, "If-Match does not match the version";
        /// A body over the limit.
        TooLarge = 413, "Body over 64 KiB";
        /// A body sent as something other than JSON.
        NotJson = 415, "A body that is not JSON";
        /// Invalid fields, or a key reused for another request.
        Invalid = 422, "Invalid fields or a reused idempotency key";
    }

    /// A rule's refusal, in general terms, for changes whose refusals the
    /// code alone names.
    Refused {
        /// Refused, raced or still running.
        Conflict = 409, "Refused by a rule (the code says which), a concurrent change, or the idempotency key in use";
    }
}

/// What a document route may answer besides the document itself and the
/// answers that name its resource: the unchanged copy, the caller, and a
/// document its profile finds incomplete.
#[derive(IntoResponses)]
pub enum DocumentAnswers {
    /// The caller's copy is current.
    #[response(status = 304, description = "`If-None-Match` names the current `ETag`",
        headers(("ETag" = String, description = "A hash of the bytes")))]
    NotModified,
    /// Not the caller's to read.
    #[response(
        status = 403,
        description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// The profile's required fields are missing.
    #[response(
        status = 422,
        description = "`document_incomplete`: `missing` lists each field the profile requires, with its BT and BR ids",
        content_type = "application/problem+json"
    )]
    Incomplete(Problem),
}

/// The answer of a change that returns the invoice.
#[derive(IntoResponses)]
pub enum InvoiceChanged {
    /// The invoice after the change.
    #[response(status = 200, description = "The invoice after the change",
        headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"` (not on idempotent replays)")))]
    Changed(InvoiceView),
}

/// The webhook endpoint a route acts on.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EndpointPath {
    /// Endpoint id
    pub id: uuid::Uuid,
}

/// One delivery of a webhook endpoint.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeliveryPath {
    /// Endpoint id
    pub id: uuid::Uuid,
    /// Delivery id
    pub delivery_id: uuid::Uuid,
}

problems! {
    /// What every webhook route may answer about the caller: endpoints
    /// receive every event of the tenant, so only an unrestricted key with the
    /// scope manages them.
    WebhookAccess {
        /// No key, or one that is not known.
        Unauthorized = 401, "Missing or bad key";
        /// Not a key that may manage webhooks.
        Forbidden = 403, "Missing webhooks:manage scope, or a party-restricted key";
    }

    /// A webhook endpoint id that names none of the tenant's.
    EndpointMissing {
        /// No such endpoint.
        NotFound = 404, "No such endpoint in this tenant";
    }

    /// The answers of a bodiless webhook write about its `Idempotency-Key`.
    KeyRefused {
        /// A malformed key.
        BadRequest = 400, "A bad `Idempotency-Key`";
        /// A key used before for another request.
        Reused = 422, "A reused idempotency key";
    }

    /// A webhook write whose only conflict is its own idempotency key.
    KeyInUse {
        /// Another request with the key is running.
        Conflict = 409, "The idempotency key is in use by a request still running";
    }

    /// What a webhook write with a JSON body may answer about the body's size
    /// and type.
    BodyRefused {
        /// A body over the limit.
        TooLarge = 413, "Body over 64 KiB";
        /// A body sent as something other than JSON.
        NotJson = 415, "A body that is not JSON";
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::http::views::TOKEN_PATTERN;
    use utoipa::openapi::path::Parameter;

    fn pattern(params: Vec<Parameter>) -> serde_json::Value {
        serde_json::to_value(&params[0]).unwrap()["schema"]["pattern"].clone()
    }

    #[test]
    fn the_reference_takes_what_the_parser_takes() {
        assert_eq!(pattern(InvoicePath::into_params(|| None)), TOKEN_PATTERN);
    }
}
