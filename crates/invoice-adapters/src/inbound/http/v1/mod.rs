//! The product's own API, `/v1`: one handler per file.

/// Writes a `/v1` POST on one invoice, so that its file holds only what is
/// its own: the doc comment, name and path, the scopes it needs, the
/// request body, how the body parses and which use case runs.
///
/// It expands to the documented handler: the OpenAPI operation (with the
/// reference, `If-Match` and `Idempotency-Key` parameters, any named
/// `params`, and the usual answers of a change unless `responses` names
/// others) and a function of the same name that runs [`command`] and, unless
/// `reply` says otherwise, answers with the invoice. A `path` segment after
/// the reference is bound to its name by the check given, before anything
/// else is looked at.
macro_rules! invoice_transition {
    (
        $(#[$doc:meta])*
        $name:ident: $path:literal, $($scope:ident),+;
        $(tag $tag:literal;)?
        body $body:tt;
        $(params($($param:tt),+);)?
        $(responses $responses:tt;)?
        $(path $segment:ident => $check:expr;)?
        parse: $parse:expr;
        run: $run:expr;
        $(reply: $reply:expr;)?
    ) => {
        invoice_transition!(@handler
            [$(#[$doc])*] $name $path [$($scope),+]
            [$($tag)? "invoices"]
            $body
            [$($($param),+)?]
            [$($responses)? (
                $crate::inbound::http::contract::InvoiceChanged,
                $crate::inbound::http::contract::Refused,
                $crate::inbound::http::contract::ChangeErrors,
                $crate::inbound::http::contract::Guarded
            )]
            // The path extractor, what it binds, and the reference in it.
            [$((String, String), [$segment])? String]
            [$((reference, $segment),)? reference]
            reference
            [$($segment $check)?]
            $parse, $run,
            [$($reply,)? |t: &::invoice_domain::Transition| {
                ::core::result::Result::Ok($crate::inbound::http::v1::invoice_reply(::actix_web::http::StatusCode::OK, t))
            }]
        );
    };
    (@handler
        [$($doc:tt)*] $name:ident $path:literal [$($scope:ident),+]
        [$tag:literal $($_default_tag:literal)?]
        $body:tt
        [$($param:tt),*]
        [$responses:tt $($_default_responses:tt)?]
        [$segments:tt $(, [$_segment:ident] $_default_segments:tt)?]
        [$binding:tt $(, $_default_binding:tt)?]
        $reference:ident
        [$($segment:ident $check:expr)?]
        $parse:expr, $run:expr,
        [$reply:expr $(, $_default_reply:expr)?]
    ) => {
        $($doc)*
        #[utoipa::path(post, path = $path, tag = $tag,
            request_body $body,
            params(
                $crate::inbound::http::contract::InvoicePath,
                $($param,)*
                $crate::inbound::http::contract::IfMatchHeader,
                $crate::inbound::http::contract::IdempotencyHeader
            ),
            responses $responses,
            security(("bearer" = []), ("basic" = [])))]
        pub async fn $name(
            req: ::actix_web::HttpRequest,
            state: ::actix_web::web::Data<$crate::inbound::http::state::AppState>,
            principal: $crate::inbound::http::auth::Principal,
            path: ::actix_web::web::Path<$segments>,
            payload: ::actix_web::web::Payload,
        ) -> ::core::result::Result<::actix_web::HttpResponse, $crate::inbound::http::problem::ApiError> {
            let $binding = path.into_inner();
            $(let $segment = $check(&$segment)?;)?
            $crate::inbound::http::v1::command(
                req,
                state,
                principal,
                &[$($crate::inbound::http::principal::KeyScope::$scope),+],
                &$reference,
                payload,
                $parse,
                $run,
                $reply,
            )
            .await
        }
    };
}

mod approve_invoice;
mod cancel_invoice;
mod create_invoice;
mod credit_invoice;
mod document;
mod finalize_invoice;
mod get_credit_note;
mod get_credit_note_document;
mod get_customer_balance;
mod get_invoice;
mod get_invoice_document;
mod get_tenant;
mod list_events;
mod list_invoice_events;
mod list_invoices;
mod mark_sent;
mod mark_uncollectible;
mod record_payment;
mod refund_payment;
mod reissue_invoice;
mod reject_invoice;
mod update_tenant;
mod void_invoice;

pub use approve_invoice::*;
pub use cancel_invoice::*;
pub use create_invoice::*;
pub use credit_invoice::*;
pub use document::DocumentQuery;
pub use finalize_invoice::*;
pub use get_credit_note::*;
pub use get_credit_note_document::*;
pub use get_customer_balance::*;
pub use get_invoice::*;
pub use get_invoice_document::*;
pub use get_tenant::*;
pub use list_events::*;
pub use list_invoice_events::*;
pub use list_invoices::*;
pub use mark_sent::*;
pub use mark_uncollectible::*;
pub use record_payment::*;
pub use refund_payment::*;
pub use reissue_invoice::*;
pub use reject_invoice::*;
pub use update_tenant::*;
pub use void_invoice::*;

use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::{CreditNoteId, Target, Transition, UseCaseError};

use super::auth::Principal;
use super::body::read_body;
use super::exec::{self, idempotency_key, if_match, parse_ref, problem_reply, Reply};
use super::problem::{from_use_case, method_not_allowed, ApiError, ErrorCode};
use super::state::{AppState, Service};
use super::views::InvoiceView;
use crate::inbound::http::principal::KeyScope;
use crate::outbound::db::DieselStore;

/// The channel recorded on events made through `/v1`.
pub const CHANNEL: &str = "v1";

/// Mounts every `/v1` route. A method a route does not serve answers 405
/// with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v1")
            .service(
                web::resource("/invoices")
                    .route(web::post().to(create_invoice))
                    .route(web::get().to(list_invoices))
                    .default_service(allow("GET, POST")),
            )
            .service(
                web::resource("/invoices/{reference}")
                    .route(web::get().to(get_invoice))
                    .default_service(allow("GET")),
            )
            .service(post("/invoices/{reference}/finalize").route(web::post().to(finalize_invoice)))
            .service(post("/invoices/{reference}/payments").route(web::post().to(record_payment)))
            .service(post("/invoices/{reference}/payments/{payment_id}/refunds").route(web::post().to(refund_payment)))
            .service(post("/invoices/{reference}/cancel").route(web::post().to(cancel_invoice)))
            .service(post("/invoices/{reference}/void").route(web::post().to(void_invoice)))
            .service(post("/invoices/{reference}/mark-uncollectible").route(web::post().to(mark_uncollectible)))
            .service(post("/invoices/{reference}/mark-sent").route(web::post().to(mark_sent)))
            .service(post("/invoices/{reference}/credit-notes").route(web::post().to(credit_invoice)))
            .service(post("/invoices/{reference}/reissue").route(web::post().to(reissue_invoice)))
            .service(
                web::resource("/customers/{id}/balance")
                    .route(web::get().to(get_customer_balance))
                    .default_service(allow("GET")),
            )
            .service(post("/invoices/{reference}/approve").route(web::post().to(approve_invoice)))
            .service(post("/invoices/{reference}/reject").route(web::post().to(reject_invoice)))
            .service(
                web::resource("/events")
                    .route(web::get().to(list_events))
                    .default_service(allow("GET")),
            )
            .service(
                web::resource("/invoices/{reference}/events")
                    .route(web::get().to(list_invoice_events))
                    .default_service(allow("GET")),
            )
            .service(
                web::resource("/invoices/{reference}/document")
                    .route(web::get().to(get_invoice_document))
                    .default_service(allow("GET")),
            )
            .service(
                web::resource("/credit-notes/{id}")
                    .route(web::get().to(get_credit_note))
                    .default_service(allow("GET")),
            )
            .service(
                web::resource("/credit-notes/{id}/document")
                    .route(web::get().to(get_credit_note_document))
                    .default_service(allow("GET")),
            )
            .service(
                web::resource("/tenant")
                    .route(web::get().to(get_tenant))
                    .route(web::patch().to(update_tenant))
                    .default_service(allow("GET, PATCH")),
            ),
    );
}

/// A resource serving only POST.
fn post(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(allow("POST"))
}

/// The fallback of a resource: 405 naming the `methods` it serves.
fn allow(methods: &'static str) -> actix_web::Route {
    web::to(move || async move { method_not_allowed(methods) })
}

/// An id (a UUID) in a path segment; one that does not parse is a 400
/// saying `detail`, before the request is looked at any further.
fn path_id<T: FromStr>(text: &str, detail: &'static str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidPathParameter, detail))
}

/// The credit note a `/v1/credit-notes/{id}` route names.
fn credit_note_id(text: &str) -> Result<CreditNoteId, ApiError> {
    path_id(text, "the id must be a UUID")
}

/// Renders an invoice reply with its `ETag`.
pub fn invoice_reply(status: StatusCode, transition: &Transition) -> Reply {
    Reply::json(status, &InvoiceView::from(&transition.invoice)).with_etag(transition.invoice.version)
}

/// The shared shape of every `/v1` POST on one invoice: scope checks, body
/// parsing, `If-Match`, `Idempotency-Key`, one transaction, the reply. The
/// handlers are written by `invoice_transition!`; `scopes` are checked in
/// order, so a route that needs two names the one whose refusal it reports
/// first.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn command<B, T, P, F, R>(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    scopes: &[KeyScope],
    reference: &str,
    payload: web::Payload,
    parse: P,
    run: F,
    reply: R,
) -> Result<HttpResponse, ApiError>
where
    B: Send + 'static,
    P: FnOnce(&HttpRequest, &[u8]) -> Result<B, ApiError>,
    F: FnOnce(&Service, &mut DieselStore<'_>, &Target<'_>, B) -> Result<T, UseCaseError> + Send + 'static,
    R: FnOnce(&T) -> Result<Reply, ApiError> + Send + 'static,
{
    for scope in scopes {
        principal.require(*scope)?;
    }
    let body = read_body(&req, payload).await?;
    let input = parse(&req, &body)?;
    let reference = parse_ref(reference)?;
    let expected_version = if_match(&req)?;
    let idem = idempotency_key(&req, &principal, &body)?;
    Ok(exec::write(&state, idem, problem_reply, move |st, store| {
        let scope = principal.scope();
        let actor = principal.actor(CHANNEL);
        let target = Target {
            scope: &scope,
            reference: &reference,
            actor: &actor,
            expected_version,
        };
        let outcome = run(&st.service, store, &target, input).map_err(|e| from_use_case(e, "invoice"))?;
        reply(&outcome)
    })
    .await)
}
