//! `GET /v1/invoices`: filtered, cursor-paginated listing.

use crate::inbound::http::contract::Guarded;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use invoice_domain::{InvoiceId, InvoiceStatus, ListQuery, PartyId};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::{InvoiceList, InvoiceSummaryView};

/// Query parameters of the listing.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this status.
    #[param(schema_with = status_schema)]
    pub status: Option<String>,
    /// Only this customer.
    #[param(
        nullable = false,
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub customer_id: Option<String>,
    /// Created at or after (RFC 3339).
    #[serde(rename = "created[gte]")]
    #[param(nullable = false)]
    pub created_gte: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    #[serde(rename = "created[lt]")]
    #[param(nullable = false)]
    pub created_lt: Option<DateTime<Utc>>,
    /// Page size, 1–100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The last id of the previous page.
    #[param(nullable = false, value_type = Option<uuid::Uuid>)]
    pub starting_after: Option<String>,
    /// `lines`: include each invoice's lines (summaries carry none by default).
    #[param(schema_with = expand_schema)]
    pub expand: Option<String>,
}

fn expand_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(
            "`lines`: include each invoice's lines (summaries carry none by default).",
        ))
        .enum_values(Some(["lines"]))
        .build()
}

fn status_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some("Only this status."))
        .enum_values(Some(InvoiceStatus::ALL.map(InvoiceStatus::as_str)))
        .build()
}

/// Lists invoices, newest first, with cursor pagination, as summaries
/// without lines unless `expand=lines`.
#[utoipa::path(get, path = "/v1/invoices", tag = "invoices",
    params(ListParams),
    responses(
        (status = 200, description = "A page of invoices", body = InvoiceList),
        (status = 400, description = "Bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope or `X-Tenant` of another tenant", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list_invoices(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::InvoicesRead)?;
    let p = params.into_inner();
    let bad = |field: &str, msg: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQueryParameter,
            format!("{field} {msg}"),
        )
    };
    let expand_lines = match p.expand.as_deref() {
        None => false,
        Some("lines") => true,
        Some(_) => return Err(bad("expand", "must be lines")),
    };
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit", "must be between 1 and 100"));
    }
    let query = ListQuery {
        status: p
            .status
            .as_deref()
            .map(|s| {
                InvoiceStatus::parse(s)
                    .ok_or_else(|| bad("status", "must be draft, open, uncollectible, paid, cancelled or void"))
            })
            .transpose()?,
        customer_id: p
            .customer_id
            .as_deref()
            .map(|c| PartyId::parse(c).map_err(|_| bad("customer_id", "is not a party id")))
            .transpose()?,
        party: None,
        created_from: p.created_gte,
        created_to: p.created_lt,
        limit,
        starting_after: p
            .starting_after
            .as_deref()
            .map(|s| {
                s.parse::<InvoiceId>()
                    .map_err(|_| bad("starting_after", "is not an invoice id"))
            })
            .transpose()?,
    };
    let scope = principal.scope();
    let page = exec::read_single(&state, move |st, store| st.service.list(store, &scope, query)).await?;
    Ok(HttpResponse::Ok().json(InvoiceList {
        object: "list",
        data: page
            .invoices
            .iter()
            .map(|i| InvoiceSummaryView::new(i, expand_lines))
            .collect(),
        has_more: page.has_more,
    }))
}
