//! Plumbing every dialect shares: authentication, body parsing, invoice
//! references and running a command through `exec`, all reporting failures
//! as [`ApiError`]s that each dialect renders in its own envelope.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse, Responder};
use chrono::{DateTime, NaiveDate, Utc};
use invoice_domain::{Amount, Currency, Invoice, InvoiceRef, Target, Transition, UseCaseError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::inbound::http::auth::{self, Principal};
use crate::inbound::http::body;
use crate::inbound::http::exec::{self, ErrorRenderer, Reply};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{from_use_case, ApiError, ErrorCode, FieldError};
use crate::inbound::http::state::{AppState, Service};
use crate::outbound::db::DieselStore;

/// Answers `result`, rendering an error with the dialect's `render`.
pub fn respond(render: ErrorRenderer, result: Result<HttpResponse, ApiError>) -> HttpResponse {
    result.unwrap_or_else(|e| render(&e).into_response())
}

/// Authenticates the request (key and `X-Tenant` when sent) and checks `scope`.
pub async fn authenticate(req: &HttpRequest, scope: KeyScope) -> Result<Principal, ApiError> {
    let principal = auth::authenticate_request(req).await?;
    principal.require(scope)?;
    Ok(principal)
}

/// Reads the body (at most [`body::MAX_BODY`] bytes).
pub async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, ApiError> {
    body::read_body(req, payload).await
}

/// Parses a JSON body into `T` whatever its `Content-Type` (the vendors'
/// clients do not all send one). Malformed JSON (or JSON nested deeper than
/// `serde_json` recurses) is 400 `malformed_json`; a wrong type, a missing
/// or an unknown field, or a body that is not an object, is 422
/// `validation_failed` naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    body::decode_json(bytes).map_err(|e| match e {
        body::JsonError::Malformed(_) => e.into(),
        _ => invalid(e.field(), e.message()),
    })
}

/// Parses an optional JSON body: a blank body is `None`.
pub fn parse_optional_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<Option<T>, ApiError> {
    if body::is_blank(bytes) {
        Ok(None)
    } else {
        parse_json(bytes).map(Some)
    }
}

/// 422 `validation_failed` for one field.
pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
    let field = field.into();
    let message = message.into();
    let detail = if field.is_empty() {
        message.clone()
    } else {
        format!("{field}: {message}")
    };
    ApiError {
        errors: vec![FieldError { field, message }],
        ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed, detail)
    }
}

/// 400 `invalid_invoice_id` for a path or body id that cannot name an invoice.
pub fn invalid_invoice_id(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidInvoiceId, detail)
}

/// Parses an invoice reference (a UUID, number or external reference);
/// text that cannot name an invoice is 400 `invalid_invoice_id`.
pub fn parse_reference(text: &str) -> Result<InvoiceRef, ApiError> {
    InvoiceRef::parse(text).map_err(|e| invalid_invoice_id(format!("the invoice id {}", e.message)))
}

/// Parses an invoice reference of an API whose ids are integers: a
/// positive integer is the invoice's serial, anything else as
/// [`parse_reference`].
pub fn parse_integer_reference(text: &str) -> Result<InvoiceRef, ApiError> {
    InvoiceRef::parse_integer_id(text).map_err(|e| invalid_invoice_id(format!("the invoice id {}", e.message)))
}

/// What a dialect command needs besides its closures.
pub struct Command<'a> {
    /// The request (for the `Idempotency-Key` and its fingerprint).
    pub req: &'a HttpRequest,
    /// The application state.
    pub state: &'a web::Data<AppState>,
    /// The authenticated caller.
    pub principal: Principal,
    /// The raw body, fingerprinted with the idempotency key.
    pub body: &'a [u8],
    /// The dialect's error envelope.
    pub render: ErrorRenderer,
    /// The channel recorded on events.
    pub channel: &'static str,
    /// The invoice acted on.
    pub reference: InvoiceRef,
}

impl<'a> Command<'a> {
    /// The command of one request; `render` and `channel` are the dialect's own.
    pub fn new(
        req: &'a HttpRequest,
        state: &'a web::Data<AppState>,
        principal: Principal,
        body: &'a [u8],
        reference: InvoiceRef,
        render: ErrorRenderer,
        channel: &'static str,
    ) -> Self {
        Command {
            req,
            state,
            principal,
            body,
            render,
            channel,
            reference,
        }
    }

    /// Runs `run` in one write transaction with the idempotency key, and
    /// renders the accepted transition with `reply`. Every error, stored
    /// replays included, is rendered in the dialect's envelope.
    pub async fn run<F, R>(self, run: F, reply: R) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&Service, &mut DieselStore<'_>, &Target<'_>) -> Result<Transition, UseCaseError> + Send + 'static,
        R: FnOnce(&Invoice) -> Reply + Send + 'static,
    {
        let idem = exec::idempotency_key(self.req, &self.principal, self.body)?;
        let principal = self.principal;
        let (channel, reference) = (self.channel, self.reference);
        Ok(exec::write(self.state, idem, self.render, move |st, store| {
            let scope = principal.scope();
            let actor = principal.actor(channel);
            let target = Target {
                scope: &scope,
                reference: &reference,
                actor: &actor,
                expected_version: None,
            };
            let transition = run(&st.service, store, &target).map_err(|e| from_use_case(e, "invoice"))?;
            Ok(reply(&transition.invoice))
        })
        .await)
    }
}

/// Loads one invoice `principal` may read.
pub async fn get_invoice(
    state: &web::Data<AppState>,
    principal: &Principal,
    reference: InvoiceRef,
) -> Result<Invoice, ApiError> {
    let scope = principal.scope();
    exec::read(state, move |st, store| st.service.get(store, &scope, &reference))
        .await
        .map_err(|e| from_use_case(e, "invoice"))
}

/// 404 in the dialect's envelope for a path under its prefix that names no route.
pub fn route_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, ErrorCode::RouteNotFound, "no such route")
}

/// A dialect's scope at `prefix`, where a path that names no route is a
/// 404 in the dialect's envelope (`render`).
pub fn scope(prefix: &str, render: ErrorRenderer) -> actix_web::Scope {
    web::scope(prefix).default_service(web::to(
        move || async move { render(&route_not_found()).into_response() },
    ))
}

/// A dialect route at `path` that `handler` serves for POST; any other
/// method gets the dialect's 405 (`render`).
pub fn post<F, Args>(path: &str, handler: F, render: ErrorRenderer) -> actix_web::Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(method_not_allowed(render, "POST"))
}

/// The fallback of a dialect route: 405 in the dialect's envelope (`render`),
/// with `Allow` naming the methods the route serves (e.g. `"POST"`).
pub fn method_not_allowed(render: ErrorRenderer, allow: &'static str) -> actix_web::Route {
    web::to(move || async move {
        let error = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            format!("this route only serves {allow}"),
        );
        let mut resp = render(&error).into_response();
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
        resp
    })
}

/// An amount in its currency's major units as an exact JSON number (`111`,
/// `110.5`, `1234.567`), written digit by digit from the integer minor
/// units: never through binary floating point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MajorUnits(String);

impl MajorUnits {
    /// `amount` of `currency` in major units, without trailing zeros.
    pub fn of(amount: Amount, currency: Currency) -> Self {
        let text = amount.to_decimal_string(currency);
        let text = if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        };
        MajorUnits(text)
    }

    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for MajorUnits {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Always valid JSON: digits with at most one dot between digits.
        let raw = serde_json::value::RawValue::from_string(self.0.clone()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl utoipa::PartialSchema for MajorUnits {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .minimum(Some(0))
            .description(Some(
                "An amount in the currency's major units, exact to its minor unit (111, 110.5)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for MajorUnits {}

/// Milliseconds since the Unix epoch.
pub fn epoch_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Midnight UTC of `d`.
pub fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// A decimal in major units recorded as text (metadata), exactly; `None`
/// when it is not a plain decimal of the currency.
pub fn parse_major_units(text: &str, currency: Currency) -> Option<MajorUnits> {
    Amount::parse_decimal(text.trim(), currency)
        .ok()
        .map(|a| MajorUnits::of(a, currency))
}

/// A metadata value as a JSON string, or `null` when it is absent.
pub fn metadata_string(invoice: &Invoice, key: &str) -> serde_json::Value {
    invoice
        .metadata
        .get(key)
        .map_or(serde_json::Value::Null, |v| serde_json::Value::String(v.clone()))
}

/// A tax rate (`"7.5"`) as a JSON number (`7.5`).
pub fn rate_number(rate: &invoice_domain::TaxRate) -> serde_json::Value {
    rate.to_string()
        .parse::<serde_json::Number>()
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_units_are_exact_decimals_without_trailing_zeros() {
        let eur = Currency::parse("EUR").unwrap();
        let cases = [
            (11_100, eur, "111"),
            (11_050, eur, "110.5"),
            (1, eur, "0.01"),
            (0, eur, "0"),
            (1_234_567, Currency::parse("KWD").unwrap(), "1234.567"),
            (5_000, Currency::parse("JPY").unwrap(), "5000"),
            (100_000_000_000_000_000, eur, "1000000000000000"),
            (99_999_999_999_999_999, eur, "999999999999999.99"),
        ];
        for (minor, currency, text) in cases {
            let units = MajorUnits::of(Amount::from_minor(minor), currency);
            assert_eq!(units.as_str(), text);
            assert_eq!(
                serde_json::to_string(&units).unwrap(),
                text,
                "written as a bare JSON number"
            );
        }
    }

    #[test]
    fn integer_ids_are_serials_and_other_text_is_a_code() {
        let code = |t: &str| invoice_domain::DocumentCode::parse(t).unwrap();
        assert_eq!(
            parse_integer_reference("52").unwrap(),
            InvoiceRef::Serial(52, code("52"))
        );
        assert_eq!(parse_integer_reference("0").unwrap(), InvoiceRef::Code(code("0")));
        assert_eq!(parse_integer_reference("-1").unwrap(), InvoiceRef::Code(code("-1")));
        assert_eq!(
            parse_integer_reference("99999999999999999999").unwrap(),
            InvoiceRef::Code(code("99999999999999999999"))
        );
        assert_eq!(
            parse_reference("INV-2024-001").unwrap(),
            InvoiceRef::Code(code("INV-2024-001"))
        );
        assert!(matches!(
            parse_reference("0193b3a0-0000-7000-8000-000000000000").unwrap(),
            InvoiceRef::Id(_)
        ));
        for bad in ["", " ", "a\u{7}", &"x".repeat(101)] {
            let e = parse_reference(bad).unwrap_err();
            assert_eq!(
                (e.status.as_u16(), e.code),
                (400, ErrorCode::InvalidInvoiceId),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parse_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct B {
            id: i64,
        }
        assert_eq!(parse_json::<B>(b"{").unwrap_err().code, ErrorCode::MalformedJson);
        let missing = parse_json::<B>(b"{}").unwrap_err();
        assert_eq!((missing.status.as_u16(), missing.errors[0].field.as_str()), (422, "id"));
        let wrong = parse_json::<B>(br#"{"id": "2"}"#).unwrap_err();
        assert_eq!((wrong.status.as_u16(), wrong.errors[0].field.as_str()), (422, "id"));
        let unknown = parse_json::<B>(br#"{"id": 2, "idd": 3}"#).unwrap_err();
        assert_eq!(
            (unknown.status.as_u16(), unknown.errors[0].field.as_str()),
            (422, "idd")
        );
        let deep = format!(r#"{{"x": {}{}}}"#, "[".repeat(500), "]".repeat(500));
        let deep = parse_json::<serde_json::Map<String, serde_json::Value>>(deep.as_bytes()).unwrap_err();
        assert_eq!(deep.code, ErrorCode::MalformedJson);
        assert!(parse_optional_json::<B>(b"  ").unwrap().is_none());
    }
}
