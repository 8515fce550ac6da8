//! The TMS transporter billing dialect: a transporter (a party-restricted
//! key acting as issuer) cancels or fetches its own invoices, under
//! `/tms/api/v1/billing/transporter`, with `{"message", "status", "errorCode"}`
//! errors.

use std::net::Ipv4Addr;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::{Approval, CancelRequest, Invoice, InvoiceStatus, Reason, ReasonCode};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::common::{self, Command, MajorUnits};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::IdempotencyHeader;
use crate::inbound::http::exec::Reply;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode};
use crate::inbound::http::state::AppState;
use crate::ports::KeyDirectory;

/// The channel recorded on events made through this dialect.
pub const CHANNEL: &str = "tms";

/// Mounts the TMS routes; anything else under `/tms` gets a TMS 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        common::scope("/tms", render)
            .service(common::post(
                "/api/v1/billing/transporter/cancel-invoice",
                cancel_invoice,
                render,
            ))
            .service(
                web::resource([
                    "/api/v1/billing/transporter/invoice/{invoice_id}/",
                    "/api/v1/billing/transporter/invoice/{invoice_id}",
                ])
                .route(web::get().to(get_transporter_invoice))
                .default_service(common::method_not_allowed(render, "GET")),
            ),
    );
}

/// The OpenAPI document of the TMS dialect.
#[derive(OpenApi)]
#[openapi(
    paths(cancel_invoice, get_transporter_invoice),
    components(schemas(TmsCancelBody, TmsCancelled, TmsCancelledData, TmsInvoiceReply, TmsInvoice, TmsError)),
    tags((name = "dialect: tms", description = "The TMS transporter billing API: a transporter cancels or reads its own invoices. The tenant may also be named by the first label of the host."))
)]
pub struct TmsDoc;

/// `POST …/cancel-invoice`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TmsCancelBody {
    /// The invoice's `uniqueCode` (its external reference, e.g.
    /// `INV-20241201-001`), its document number or its UUID.
    #[schema(
        example = "INV-20241201-001",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub invoice_id: String,
    /// Free text, at most 500 characters, without control characters other
    /// than tab, CR and LF; blank or null means no reason text.
    #[schema(
        example = "Customer requested cancellation",
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub cancellation_reason: Option<String>,
}

/// The success envelope of a cancel.
#[derive(Debug, Serialize, ToSchema)]
pub struct TmsCancelled {
    /// What happened.
    pub data: TmsCancelledData,
    /// Always `Success`.
    pub message: &'static str,
    /// Always `success`.
    pub status: &'static str,
}

/// The `data` of a cancel.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TmsCancelledData {
    /// Always true.
    pub success: bool,
    /// Always `Invoice cancelled successfully`.
    pub message: &'static str,
    /// The `invoiceId` exactly as sent.
    pub invoice_id: String,
}

/// The success envelope of a read.
#[derive(Debug, Serialize, ToSchema)]
pub struct TmsInvoiceReply {
    /// The invoice.
    pub data: TmsInvoice,
    /// Always `Success`.
    pub message: &'static str,
    /// Always `success`.
    pub status: &'static str,
}

/// A transporter invoice as the TMS shows it; timestamps are epoch
/// milliseconds and amounts are in the currency's major units.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TmsInvoice {
    /// The invoice's own code as the client knows it: its external
    /// reference, else its number, else (a draft) its UUID.
    pub unique_code: String,
    /// The document number (`INV-2024-001`); null while a draft.
    pub invoice_number: Option<String>,
    /// `DRAFT`, `SUBMITTED`, `APPROVED`, `REJECTED`, `PAID`, `CANCELLED`, `VOID` or `UNCOLLECTIBLE`.
    pub state: &'static str,
    /// `LEVEL_n` while pending, `APPROVED`, `REJECTED` or `NOT_REQUIRED`.
    pub approval_state: String,
    /// The issuer's party id.
    pub transporter_id: Option<String>,
    /// The issuer's name.
    pub transporter_name: Option<String>,
    /// The total as issued (a cancel does not change it).
    pub total_amount: MajorUnits,
    /// The amount the shipper's system computed: metadata `systemAmount`
    /// when the client recorded one, else the total.
    pub system_amount: MajorUnits,
    /// Metadata `differenceAmount` as sent, else empty: no difference recorded.
    pub difference_amount: String,
    /// Issue date.
    pub invoice_date: Option<i64>,
    /// Due date (midnight UTC).
    pub due_date: Option<i64>,
    /// When it was submitted (issued).
    pub submitted_at: Option<i64>,
    /// When the payer approved it.
    pub approved_at: Option<i64>,
    /// When the payer rejected it.
    pub rejected_at: Option<i64>,
    /// The payer's rejection reasons.
    pub shipper_rejection_reasons: Vec<String>,
    /// The payer's rejection remark.
    pub shipper_rejection_remark: Option<String>,
    /// Metadata `chargeCount`, else the number of lines on the document.
    pub charge_count: u64,
    /// Metadata `loadCount`; null when the client recorded none.
    pub load_count: Option<u64>,
    /// Metadata `versionId`, else the invoice's version.
    pub version_id: String,
    /// Created.
    pub created_at: i64,
    /// Last changed.
    pub updated_at: i64,
    /// Always false: invoices are never deleted.
    pub is_deleted: bool,
}

/// The TMS error envelope.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TmsError {
    /// What went wrong.
    pub message: String,
    /// Always `error`.
    pub status: &'static str,
    /// A stable upper-case code, e.g. `INVOICE_NOT_FOUND`.
    pub error_code: String,
}

/// The TMS `errorCode` for an error.
fn error_code(e: &ApiError) -> String {
    match e.code {
        ErrorCode::InsufficientScope => "FORBIDDEN".into(),
        ErrorCode::MalformedJson => "INVALID_REQUEST".into(),
        other => other.as_str().to_ascii_uppercase(),
    }
}

/// The status the TMS documents for an outcome: 400 for invalid data, 403
/// for every refusal to cancel, 404, and 401 and 500 as they are. A lost
/// race and a request still running under the same key ask for a retry
/// (503 and 429, with `Retry-After`), like the infrastructure answers
/// (413, 415, 429, 503) that every face keeps.
fn status(e: &ApiError) -> StatusCode {
    match e.status {
        StatusCode::CONFLICT => match e.code {
            ErrorCode::IdempotencyKeyInUse => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::VersionMismatch | ErrorCode::ConcurrentConflict => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::FORBIDDEN,
        },
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::PRECONDITION_FAILED => StatusCode::BAD_REQUEST,
        other => other,
    }
}

/// Renders an error in the TMS envelope.
pub fn render(e: &ApiError) -> Reply {
    Reply::json(
        status(e),
        &TmsError {
            message: e.detail.clone(),
            status: "error",
            error_code: error_code(e),
        },
    )
}

/// The first label of the host name, unless the host is an IP literal.
fn host_label(req: &HttpRequest) -> Option<String> {
    let info = req.connection_info();
    let host = info.host();
    if host.starts_with('[') {
        return None;
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    if name.parse::<Ipv4Addr>().is_ok() {
        return None;
    }
    let label = name.split('.').next()?.trim().to_ascii_lowercase();
    (!label.is_empty()).then_some(label)
}

/// Refuses a host whose first label names another tenant than the key's; a
/// label naming no tenant (`localhost`, `api`) is ignored.
async fn check_host(req: &HttpRequest, state: &web::Data<AppState>, principal: &Principal) -> Result<(), ApiError> {
    let Some(label) = host_label(req) else {
        return Ok(());
    };
    if principal.is_tenant(&label) {
        return Ok(());
    }
    let st = state.clone();
    let found = crate::inbound::http::exec::blocking(move || st.db.tenant_named(&label))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    match found {
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::TenantMismatch,
            "the host names another tenant than the API key's",
        )),
        None => Ok(()),
    }
}

/// Authenticates, checks the scope and the host's tenant.
async fn authorize(req: &HttpRequest, state: &web::Data<AppState>, scope: KeyScope) -> Result<Principal, ApiError> {
    let principal = common::authenticate(req, scope).await?;
    check_host(req, state, &principal).await?;
    Ok(principal)
}

/// Cancel one of the transporter's invoices.
#[utoipa::path(post, path = "/tms/api/v1/billing/transporter/cancel-invoice", operation_id = "tms_cancel_invoice", tag = "dialect: tms",
    request_body = TmsCancelBody,
    params(IdempotencyHeader),
    responses(
        (status = 200, description = "Invoice cancelled successfully", body = TmsCancelled),
        (status = 400, description = "Invalid invoice data: malformed JSON (`INVALID_REQUEST`), a missing, empty, over-long or control-character invoiceId (`INVALID_INVOICE_ID`), an invalid field (`VALIDATION_FAILED`), a bad or reused `Idempotency-Key`", body = TmsError),
        (status = 401, description = "Missing or invalid API key (`UNAUTHORIZED`)", body = TmsError),
        (status = 403, description = "The invoice cannot be cancelled: its own code says why (`INVOICE_ALREADY_CANCELLED`, `INVOICE_ALREADY_VOID`, `INVOICE_PAID`, `INVOICE_HAS_PAYMENTS`, `INVOICE_APPROVED`…); or a missing scope (`FORBIDDEN`), an invoice the transporter did not issue (`INVOICE_NOT_OWNED`), a host naming another tenant (`TENANT_MISMATCH`)", body = TmsError),
        (status = 404, description = "No invoice of this tenant has this code, number or id (`INVOICE_NOT_FOUND`)", body = TmsError),
        (status = 413, description = "A body over 64 KiB", body = TmsError),
        (status = 429, description = "Too many requests for this key, or one still running with this `Idempotency-Key` (`Retry-After`)", body = TmsError),
        (status = 500, description = "An unexpected failure (`INTERNAL_ERROR`)", body = TmsError),
        (status = 503, description = "The database is unavailable, or a concurrent change won (`Retry-After`)", body = TmsError),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn cancel_invoice(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> HttpResponse {
    common::respond(render, cancel(req, state, payload).await)
}

/// The handler's work; errors are rendered by the caller.
async fn cancel(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let principal = authorize(&req, &state, KeyScope::InvoicesCancel).await?;
    let body = common::read_body(&req, payload).await?;
    let input: TmsCancelBody = common::parse_json(&body).map_err(|e| {
        if e.errors.first().is_some_and(|f| f.field == "invoiceId") {
            common::invalid_invoice_id(format!("invoiceId is required and must be a string ({})", e.detail))
        } else {
            e
        }
    })?;
    let reference = common::parse_reference(&input.invoice_id)?;
    let text = input.cancellation_reason.as_deref().filter(|t| !t.trim().is_empty());
    let reason = Reason::new(ReasonCode::Other, text).map_err(|e| common::invalid("cancellationReason", e.message))?;
    let request = CancelRequest::whole(Some(reason));
    let invoice_id = input.invoice_id;
    Command::new(&req, &state, principal, &body, reference, render, CHANNEL)
        .run(
            move |svc, store, target| svc.cancel(store, target, &request),
            move |_| {
                Reply::json(
                    StatusCode::OK,
                    &TmsCancelled {
                        data: TmsCancelledData {
                            success: true,
                            message: "Invoice cancelled successfully",
                            invoice_id,
                        },
                        message: "Success",
                        status: "success",
                    },
                )
            },
        )
        .await
}

/// Get one of the transporter's invoices (or one it is billed by).
#[utoipa::path(get, path = "/tms/api/v1/billing/transporter/invoice/{invoice_id}/", operation_id = "tms_get_transporter_invoice", tag = "dialect: tms",
    params(("invoice_id" = String, Path, description = "The invoice's uniqueCode (external reference), document number or UUID", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$")),
    responses(
        (status = 200, description = "Transporter invoice details retrieved successfully", body = TmsInvoiceReply),
        (status = 400, description = "An empty, over-long or control-character id (`INVALID_INVOICE_ID`)", body = TmsError),
        (status = 401, description = "Missing or invalid API key (`UNAUTHORIZED`)", body = TmsError),
        (status = 403, description = "Missing scope (`FORBIDDEN`), an invoice the transporter is neither issuer nor customer of (`INVOICE_NOT_OWNED`) or a host naming another tenant (`TENANT_MISMATCH`)", body = TmsError),
        (status = 404, description = "No invoice of this tenant has this code, number or id (`INVOICE_NOT_FOUND`)", body = TmsError),
        (status = 429, description = "Too many requests for this key (`Retry-After`)", body = TmsError),
        (status = 500, description = "An unexpected failure (`INTERNAL_ERROR`)", body = TmsError),
        (status = 503, description = "The database is unavailable (`Retry-After`)", body = TmsError),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_transporter_invoice(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    common::respond(render, get(req, state).await)
}

/// The handler's work; errors are rendered by the caller.
async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let principal = authorize(&req, &state, KeyScope::InvoicesRead).await?;
    let reference = common::parse_reference(req.match_info().get("invoice_id").unwrap_or_default())?;
    let invoice = common::get_invoice(&state, &principal, reference).await?;
    Ok(HttpResponse::Ok().json(TmsInvoiceReply {
        data: view(&invoice),
        message: "Success",
        status: "success",
    }))
}

/// The TMS `state`: a draft is `DRAFT` (the TMS has no such state; it is
/// not yet submitted), an open invoice follows its approval.
pub fn state(invoice: &Invoice) -> &'static str {
    match (invoice.status, &invoice.approval) {
        (InvoiceStatus::Draft, _) => "DRAFT",
        (InvoiceStatus::Uncollectible, _) => "UNCOLLECTIBLE",
        (InvoiceStatus::Open, Approval::Approved { .. }) => "APPROVED",
        (InvoiceStatus::Open, Approval::Rejected { .. }) => "REJECTED",
        (InvoiceStatus::Open, _) => "SUBMITTED",
        (InvoiceStatus::Paid, _) => "PAID",
        (InvoiceStatus::Cancelled, _) => "CANCELLED",
        (InvoiceStatus::Void, _) => "VOID",
    }
}

/// The TMS `approvalState`.
pub fn approval_state(approval: &Approval) -> String {
    match approval {
        Approval::NotRequired => "NOT_REQUIRED".into(),
        Approval::Pending { level, .. } => format!("LEVEL_{level}"),
        Approval::Approved { .. } => "APPROVED".into(),
        Approval::Rejected { .. } => "REJECTED".into(),
    }
}

/// Renders an invoice in the TMS shape.
pub fn view(invoice: &Invoice) -> TmsInvoice {
    let (approved_at, rejected_at, reasons, remark) = match &invoice.approval {
        Approval::Approved { at } => (Some(common::epoch_millis(*at)), None, Vec::new(), None),
        Approval::Rejected {
            at, reasons, remark, ..
        } => (None, Some(common::epoch_millis(*at)), reasons.clone(), remark.clone()),
        Approval::NotRequired | Approval::Pending { .. } => (None, None, Vec::new(), None),
    };
    let currency = invoice.currency;
    let total = invoice.totals().total;
    let count = |key: &str| invoice.metadata.get(key).and_then(|v| v.trim().parse::<u64>().ok());
    TmsInvoice {
        unique_code: invoice
            .external_reference
            .clone()
            .or_else(|| invoice.number_text())
            .unwrap_or_else(|| invoice.id.to_string()),
        invoice_number: invoice.number_text(),
        state: state(invoice),
        approval_state: approval_state(&invoice.approval),
        transporter_id: invoice.issuer.as_ref().map(|p| p.id.to_string()),
        transporter_name: invoice.issuer.as_ref().map(|p| p.name.clone()),
        total_amount: MajorUnits::of(total, currency),
        system_amount: invoice
            .metadata
            .get("systemAmount")
            .and_then(|v| common::parse_major_units(v, currency))
            .unwrap_or_else(|| MajorUnits::of(total, currency)),
        difference_amount: invoice.metadata.get("differenceAmount").cloned().unwrap_or_default(),
        invoice_date: invoice.issued_at.map(common::epoch_millis),
        due_date: invoice.due_date.map(|d| common::epoch_millis(common::midnight(d))),
        submitted_at: invoice.issued_at.map(common::epoch_millis),
        approved_at,
        rejected_at,
        shipper_rejection_reasons: reasons,
        shipper_rejection_remark: remark,
        charge_count: count("chargeCount").unwrap_or_else(|| u64::try_from(invoice.lines.len()).unwrap_or(u64::MAX)),
        load_count: count("loadCount"),
        version_id: invoice
            .metadata
            .get("versionId")
            .cloned()
            .unwrap_or_else(|| invoice.version.to_string()),
        created_at: common::epoch_millis(invoice.created_at),
        updated_at: common::epoch_millis(invoice.updated_at),
        is_deleted: false,
    }
}

#[cfg(test)]
mod tests {
    use invoice_domain::RefusalCode;

    use super::*;

    #[test]
    fn error_codes_are_upper_case_with_tms_names() {
        let e = |code| ApiError::new(StatusCode::BAD_REQUEST, code, "x");
        assert_eq!(error_code(&e(ErrorCode::InsufficientScope)), "FORBIDDEN");
        assert_eq!(error_code(&e(ErrorCode::MalformedJson)), "INVALID_REQUEST");
        assert_eq!(
            error_code(&e(ErrorCode::Refused(RefusalCode::InvoiceAlreadyCancelled))),
            "INVOICE_ALREADY_CANCELLED"
        );
        assert_eq!(error_code(&e(ErrorCode::InvalidInvoiceId)), "INVALID_INVOICE_ID");
    }

    #[test]
    fn outcomes_map_to_the_documented_statuses() {
        let e = |status: u16, code| ApiError::new(StatusCode::from_u16(status).unwrap(), code, "x");
        for (from, code, to) in [
            (409, ErrorCode::Refused(RefusalCode::InvoicePaid), 403),
            (409, ErrorCode::Refused(RefusalCode::InvoiceAlreadyCancelled), 403),
            (409, ErrorCode::IdempotencyKeyInUse, 429),
            (409, ErrorCode::VersionMismatch, 503),
            (422, ErrorCode::ValidationFailed, 400),
            (422, ErrorCode::IdempotencyKeyReused, 400),
            (404, ErrorCode::InvoiceNotFound, 404),
            (403, ErrorCode::InvoiceNotOwned, 403),
            (401, ErrorCode::Unauthorized, 401),
            (500, ErrorCode::InternalError, 500),
            (413, ErrorCode::PayloadTooLarge, 413),
        ] {
            assert_eq!(status(&e(from, code)).as_u16(), to, "{from} {code}");
        }
    }

    #[test]
    fn approval_states_name_the_level() {
        assert_eq!(approval_state(&Approval::Pending { level: 2, required: 3 }), "LEVEL_2");
        assert_eq!(approval_state(&Approval::NotRequired), "NOT_REQUIRED");
    }
}
