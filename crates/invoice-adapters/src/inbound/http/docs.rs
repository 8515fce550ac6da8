//! `GET /docs`: interactive API documentation (Swagger UI) for the
//! server's own `/openapi.json`. The Swagger UI files are embedded in the
//! binary at build time, so the page works offline and loads nothing from
//! elsewhere.

use std::sync::{Arc, OnceLock};

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::{serve, Config};

use super::problem::{ApiError, ErrorCode};

/// Where the page is served.
pub const DOCS_PATH: &str = "/docs";
/// The document the page renders (served by [`super::openapi`]).
pub const SPEC_URL: &str = "/openapi.json";
/// The page title.
pub const TITLE: &str = "Storno API reference";

/// Swagger UI's settings: our document only, no remote validator badge
/// (which would call an outside service), no `?url=` override.
fn config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(
                Config::new([SPEC_URL])
                    .validator_url("none")
                    .query_config_enabled(false),
            )
        })
        .clone()
}

/// The index page: Swagger UI's own, titled for Storno, with its
/// initializer (which names the document) inlined.
fn index_page() -> Option<String> {
    let index = serve("index.html", config()).ok()??;
    let init = serve("swagger-initializer.js", config()).ok()??;
    let index = String::from_utf8(index.bytes.into_owned()).ok()?;
    let init = String::from_utf8(init.bytes.into_owned()).ok()?;
    let page = index
        .replace("<title>Swagger UI</title>", &format!("<title>{TITLE}</title>"))
        .replace(
            r#"<script src="./swagger-initializer.js" charset="UTF-8"> </script>"#,
            &format!("<script>\n{init}\n</script>"),
        );
    Some(page)
}

/// `GET /docs`: to `/docs/`, where the page's relative asset links resolve.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, format!("{DOCS_PATH}/")))
        .finish()
}

/// `GET /docs/{file}`: the page, or one of its embedded assets.
pub async fn docs_file(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let file = path.into_inner();
    if file.is_empty() || file == "index.html" {
        let page = index_page().ok_or_else(|| ApiError::internal(&"the embedded Swagger UI page is unreadable"))?;
        return Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page));
    }
    match serve(&file, config()) {
        Ok(Some(asset)) => Ok(HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(asset.bytes.into_owned())),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::RouteNotFound,
            "no such route",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_titled_and_names_the_document_without_outside_urls() {
        let page = index_page().expect("embedded Swagger UI");
        assert!(page.contains(&format!("<title>{TITLE}</title>")), "{page}");
        assert!(page.contains(&format!("\"url\": \"{SPEC_URL}\"")), "{page}");
        assert!(!page.contains("swagger-initializer.js"), "the initializer is inlined");
        assert!(!page.contains("https://"), "nothing is loaded from elsewhere: {page}");
        assert!(serve("swagger-ui-bundle.js", config()).unwrap().is_some());
    }
}
