//! `GET /v1/credit-notes/{id}`: one credit note.

use crate::inbound::http::contract::Guarded;
use actix_web::{web, HttpResponse};

use super::credit_note_id;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{from_use_case, ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::CreditNoteView;

/// Fetches a credit note.
#[utoipa::path(get, path = "/v1/credit-notes/{id}", tag = "credit notes",
    params(("id" = uuid::Uuid, Path, description = "Credit note id")),
    responses(
        (status = 200, description = "The credit note", body = CreditNoteView),
        (status = 400, description = "Bad id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such credit note in this tenant", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_credit_note(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::InvoicesRead)?;
    let id = credit_note_id(&path)?;
    let scope = principal.scope();
    let note = exec::read(&state, move |st, store| st.service.credit_note(store, &scope, id))
        .await
        .map_err(|e| from_use_case(e, "credit note"))?;
    Ok(HttpResponse::Ok().json(CreditNoteView::from(&note)))
}
