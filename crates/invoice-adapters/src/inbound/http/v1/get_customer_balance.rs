//! `GET /v1/customers/{id}/balance`: a customer's credit balances, per
//! currency, with their ledgers.

use crate::inbound::http::contract::Guarded;
use actix_web::{web, HttpResponse};
use invoice_domain::PartyId;

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::CustomerBalanceView;

/// A customer's credit balances: one per currency it ever held, with every
/// ledger entry (credit notes settled onto it, payments made from it).
#[utoipa::path(get, path = "/v1/customers/{id}/balance", tag = "customers",
    params(("id" = String, Path, description = "The customer (party) id", min_length = 1, max_length = 128, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$")),
    responses(
        (status = 200, description = "The balances; empty when the customer never had one", body = CustomerBalanceView),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or a party key asking for another customer (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_customer_balance(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::InvoicesRead)?;
    let customer = PartyId::parse(&path).map_err(|e| {
        ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPathParameter,
            format!("the customer id {}", e.message),
        )
    })?;
    let scope = principal.scope();
    let shown = customer.clone();
    let balances = exec::read(&state, move |st, store| {
        st.service.customer_balances(store, &scope, &customer)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CustomerBalanceView::new(shown.as_str(), &balances)))
}
