//! The OpenAPI 3.1 document, generated from the handlers and schemas.

use actix_web::{web, HttpResponse};
use serde_json::json;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Required};
use utoipa::{Modify, OpenApi};

use super::health;
use super::problem::{FieldError, Problem};
use super::state::{AppState, Dialects};
use super::v1;
use super::views::*;

/// Adds the Bearer and Basic security schemes.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `Authorization: Bearer sk_…`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("An API key as the HTTP Basic user name, with an empty password"))
                    .build(),
            ),
        );
    }
}

/// States the rules that tie a body's fields together, so that every body
/// the contract allows is one the parser accepts. For a line (and a goodwill
/// credit): `S` needs a rate
/// above zero and every other category a zero rate; `E`, `AE`, `K`, `G` and
/// `O` need an exemption reason (code or text), and no other line may carry
/// one. utoipa has no `if`/`then`, so the JSON Schema keywords go in as
/// flattened extensions of the `LineBody` object.
struct LineRules;

impl Modify for LineRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let untaxed = ["E", "AE", "K", "G", "O"];
        let category_is = |values: serde_json::Value| json!({"properties": {"tax_category": {"enum": values}}, "required": ["tax_category"]});
        let has = |field: &str| json!({"properties": {field: {"type": "string"}}, "required": [field]});
        let rules = json!([
            {"if": category_is(json!(["S"])), "then": {"properties": {"tax_rate": {"pattern": "[1-9]"}}}},
            {"if": category_is(json!(["Z", "E", "AE", "K", "G", "O"])),
             "then": {"properties": {"tax_rate": {"pattern": "^[0.]+$"}}}},
            {"if": category_is(json!(untaxed)),
             "then": {"anyOf": [has("exemption_reason"), has("exemption_reason_code")]},
             "else": {"properties": {"exemption_reason": {"type": "null"}, "exemption_reason_code": {"type": "null"}}}},
        ]);
        for name in ["LineBody", "ExtraCreditBody"] {
            if let Some(RefOr::T(Schema::Object(line))) = components.schemas.get_mut(name) {
                line.extensions
                    .get_or_insert_with(Default::default)
                    .insert("allOf".into(), rules.clone());
            }
        }
        for (name, rule) in cross_field_rules() {
            if let (Some(RefOr::T(Schema::Object(body))), serde_json::Value::Object(keywords)) =
                (components.schemas.get_mut(name), rule)
            {
                body.extensions.get_or_insert_with(Default::default).extend(keywords);
            }
        }
    }
}

/// Links every response carrying an invoice to the operations on that
/// invoice, its payments' refunds and its credit notes, so clients (and
/// stateful test tools) can follow an invoice through its life.
struct Links;

/// Operations answering with the invoice, by operation id.
const INVOICE_REPLIES: [&str; 11] = [
    "create_invoice",
    "get_invoice",
    "finalize_invoice",
    "record_payment",
    "refund_payment",
    "cancel_invoice",
    "void_invoice",
    "mark_uncollectible",
    "mark_sent",
    "approve_invoice",
    "reject_invoice",
];

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let by_reference = [
            ("GetInvoice", "get_invoice"),
            ("ListEvents", "list_invoice_events"),
            ("Finalize", "finalize_invoice"),
            ("RecordPayment", "record_payment"),
            ("Cancel", "cancel_invoice"),
            ("Void", "void_invoice"),
            ("MarkUncollectible", "mark_uncollectible"),
            ("MarkSent", "mark_sent"),
            ("CreditNote", "credit_invoice"),
            ("Reissue", "reissue_invoice"),
            ("Approve", "approve_invoice"),
            ("Reject", "reject_invoice"),
        ];
        let id = "$response.body#/id";
        let mut links = serde_json::Map::new();
        for (name, target) in by_reference {
            links.insert(
                name.into(),
                json!({"operationId": target, "parameters": {"reference": id}}),
            );
        }
        // Only from the replies that just made the first payment or credit note.
        let refund = json!({"operationId": "refund_payment",
            "parameters": {"reference": id, "payment_id": "$response.body#/payments/0/id"}});
        let credit_note = json!({"operationId": "get_credit_note",
            "parameters": {"id": "$response.body#/credit_notes/0/id"}});
        // utoipa 5's `Link` serializes its fields in snake case
        // (`operation_id`), which no OpenAPI tool reads; the links go in as
        // JSON through the response's flattened extensions instead.
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                let Some(op_id) = op.operation_id.as_deref().filter(|id| INVOICE_REPLIES.contains(id)) else {
                    continue;
                };
                let mut these = links.clone();
                if matches!(op_id, "record_payment" | "refund_payment") {
                    these.insert("RefundFirstPayment".into(), refund.clone());
                }
                if op_id == "cancel_invoice" {
                    these.insert("GetFirstCreditNote".into(), credit_note.clone());
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                        response
                            .extensions
                            .get_or_insert_with(Default::default)
                            .insert("links".into(), serde_json::Value::Object(these.clone()));
                    }
                }
            }
        }
    }
}

/// The `/v1` API and the operations endpoints.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Storno invoice API",
        description = "Invoices per tenant as immutable documents: exact cancellation (full or by line) through numbered credit notes, void, write-off, a VAT breakdown, an audit trail, idempotent requests and optimistic concurrency. Errors are RFC 9457 problem+json with a stable `code`.",
        version = "1.0.0",
        license(name = "Apache-2.0")
    ),
    paths(
        v1::create_invoice,
        v1::list_invoices,
        v1::get_invoice,
        v1::finalize_invoice,
        v1::record_payment,
        v1::refund_payment,
        v1::cancel_invoice,
        v1::void_invoice,
        v1::mark_uncollectible,
        v1::mark_sent,
        v1::credit_invoice,
        v1::reissue_invoice,
        v1::get_customer_balance,
        v1::approve_invoice,
        v1::reject_invoice,
        v1::list_invoice_events,
        v1::get_credit_note,
        v1::get_invoice_document,
        v1::get_credit_note_document,
        v1::get_tenant,
        v1::update_tenant,
        health::healthz,
        health::readyz,
        health::metrics,
        openapi_json,
    ),
    components(schemas(Problem, FieldError, InvoiceView, InvoiceList, CreditNoteView, EventList, EventView, CreditNoteBody, ReissueBody, ExtraCreditBody)),
    modifiers(&Security, &Links, &LineRules),
    tags(
        (name = "invoices", description = "The product's own API"),
        (name = "credit notes", description = "Documents correcting issued invoices"),
        (name = "customers", description = "Customers' credit balances"),
        (name = "documents", description = "Issued invoices and credit notes as EN 16931 UBL 2.1 e-invoices and printable pages"),
        (name = "tenant", description = "The tenant's seller profile and document settings"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// This document, for the mounted dialects.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of this server", content_type = "application/json", body = Object)))]
pub async fn openapi_json(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(document(&state.dialects))
}

/// The document for the mounted dialects.
pub fn document(dialects: &Dialects) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::webhooks::WebhooksDoc::openapi());
    for extra in super::dialects::documents(dialects) {
        doc.merge(extra);
    }
    absent_not_null(&mut doc);
    doc
}

/// An optional request body (`request_body = Option<T>`) may be left out,
/// but when sent it must be a `T`: the parsers refuse a JSON `null`. utoipa
/// renders the option as `oneOf: [null, T]` (or, for an inline object, as
/// `type: [object, null]`); this keeps only `T`.
fn absent_not_null(doc: &mut utoipa::openapi::OpenApi) {
    let is_null =
        |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null));
    for item in doc.paths.paths.values_mut() {
        let operations: [&mut Option<Operation>; 8] = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            let Some(body) = op.request_body.as_mut() else {
                continue;
            };
            if body.required == Some(Required::True) {
                continue;
            }
            for content in body.content.values_mut() {
                match &mut content.schema {
                    Some(RefOr::T(Schema::OneOf(one_of)))
                        if one_of.items.len() == 2 && one_of.items.iter().any(is_null) =>
                    {
                        content.schema = one_of.items.iter().find(|s| !is_null(s)).cloned();
                    }
                    Some(RefOr::T(Schema::Object(object))) => {
                        if let SchemaType::Array(types) = &object.schema_type {
                            let types: Vec<Type> = types.iter().filter(|t| **t != Type::Null).cloned().collect();
                            object.schema_type = match types.as_slice() {
                                [only] => SchemaType::Type(only.clone()),
                                _ => SchemaType::Array(types),
                            };
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
