//! What the two document routes share: the `profile` query, the order of
//! their checks, content negotiation between UBL XML and the printable
//! page, and a reply with a strong `ETag` that `If-None-Match` can match.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::{EDocument, Profile, Scope, UseCaseError};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{from_use_case, ApiError, ErrorCode};
use crate::inbound::http::state::{AppState, Service};
use crate::outbound::db::DieselStore;
use crate::outbound::documents::{self, Format};

/// The query of a document route.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// `en16931` (default): `CustomizationID` `urn:cen.eu:en16931:2017`;
    /// `xrechnung`: the XRechnung 3.0 CIUS, which needs more fields.
    #[param(pattern = "^(?:en16931|xrechnung)$")]
    pub profile: Option<String>,
}

impl DocumentQuery {
    /// The profile asked for.
    pub fn profile(&self) -> Result<Profile, ApiError> {
        match self.profile.as_deref() {
            None => Ok(Profile::En16931),
            Some(name) => Profile::parse(name).ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidQueryParameter,
                    "profile must be en16931 or xrechnung",
                )
            }),
        }
    }
}

/// Serves a document route: the scope, then the id (`parse`), then the
/// profile, so that both routes refuse a request for the same reason;
/// `load` builds the document in a read transaction, and `what` names the
/// resource when it is not found.
pub async fn serve<I, P, F>(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    principal: &Principal,
    query: &DocumentQuery,
    what: &'static str,
    parse: P,
    load: F,
) -> Result<HttpResponse, ApiError>
where
    I: Send + 'static,
    P: FnOnce() -> Result<I, ApiError>,
    F: FnOnce(&Service, &mut DieselStore<'_>, &Scope, I, Profile) -> Result<EDocument, UseCaseError> + Send + 'static,
{
    principal.require(KeyScope::InvoicesRead)?;
    let id = parse()?;
    let profile = query.profile()?;
    let scope = principal.scope();
    let doc = exec::read(state, move |st, store| load(&st.service, store, &scope, id, profile))
        .await
        .map_err(|e| from_use_case(e, what))?;
    Ok(reply(req, &doc, profile))
}

/// The format `Accept` prefers: the page when `text/html` ranks above every
/// XML type, else UBL XML (also for types this route does not serve, which
/// HTTP lets a server answer with its default).
pub fn format(req: &HttpRequest) -> Format {
    let Some(accept) = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Format::Xml;
    };
    let (mut html, mut xml) = (0u32, 0u32);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        // Quality to thousandths, an integer to compare.
        let q = (q.clamp(0.0, 1.0) * 1000.0).round() as u32;
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            "application/xml" | "text/xml" => xml = xml.max(q),
            _ => {}
        }
    }
    if html > xml {
        Format::Html
    } else {
        Format::Xml
    }
}

/// Renders `doc` as asked, or 304 when `If-None-Match` names its `ETag`.
pub fn reply(req: &HttpRequest, doc: &EDocument, profile: Profile) -> HttpResponse {
    let format = format(req);
    let rendered = documents::render(doc, profile, format);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == rendered.etag || t.trim() == "*"));
    let extension = match format {
        Format::Xml => "xml",
        Format::Html => "html",
    };
    let mut resp = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, rendered.etag.clone()))
        .insert_header((header::VARY, "Accept"));
    if matches {
        return resp.finish();
    }
    resp.insert_header((header::CONTENT_TYPE, rendered.content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}.{extension}\"", doc.number),
        ))
        .body(rendered.body)
}
