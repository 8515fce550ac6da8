//! Reading and parsing request bodies into problem+json-friendly errors.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::problem::{ApiError, FieldError};

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;
/// Deepest accepted JSON nesting.
pub const MAX_DEPTH: usize = 32;

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes with 413.
pub async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<web::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body must be at most {MAX_BODY} bytes"),
        )
    };
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > MAX_BODY {
            return Err(too_large());
        }
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// True when the body is empty or only whitespace.
pub fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Refuses a non-JSON content type with 415 (bodies only).
pub fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as Content-Type: application/json",
        ))
    }
}

/// Refuses JSON nested deeper than [`MAX_DEPTH`] before parsing it.
fn check_depth(body: &[u8]) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "json_too_deep",
                        format!("JSON may be nested at most {MAX_DEPTH} levels deep"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses a JSON body into `T`, telling malformed JSON (400) from wrong
/// types, unknown or missing fields (422), then runs `validator`.
pub fn parse_json<T: DeserializeOwned + Validate>(req: &HttpRequest, body: &[u8]) -> Result<T, ApiError> {
    require_json(req)?;
    check_depth(body)?;
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            ),
            Category::Data => {
                let msg = inner.to_string();
                let code = if msg.starts_with("unknown field") {
                    "unknown_field"
                } else if msg.starts_with("missing field") {
                    "missing_field"
                } else if msg.starts_with("invalid type") {
                    "invalid_type"
                } else {
                    "invalid_value"
                };
                let field = if path == "." { String::new() } else { path };
                let message = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                ApiError {
                    errors: vec![FieldError {
                        field: field.clone(),
                        message: message.clone(),
                    }],
                    ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, format!("{field}: {message}"))
                }
            }
        }
    })?;
    require_object(body)?;
    value.validate().map_err(validation_problem)?;
    Ok(value)
}

/// Refuses a body that parsed but is not a JSON object: serde reads a struct
/// from an array of its fields in order too, and no route documents that.
pub fn require_object(body: &[u8]) -> Result<(), ApiError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err(ApiError {
            errors: vec![FieldError {
                field: String::new(),
                message: "the body must be a JSON object".into(),
            }],
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_type",
                "the body must be a JSON object",
            )
        }),
    }
}

/// Parses an optional JSON body: empty means `T::default()`.
pub fn parse_optional_json<T: DeserializeOwned + Validate + Default>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    if is_blank(body) {
        Ok(T::default())
    } else {
        parse_json(req, body)
    }
}

fn flatten(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(errs) => {
                for e in errs {
                    let message =
                        e.message
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_else(|| match e.code.as_ref() {
                                "length" => "has an invalid length".to_string(),
                                "range" => "is out of range".to_string(),
                                "email" => "is not an e-mail address".to_string(),
                                other => format!("is invalid ({other})"),
                            });
                    out.push(FieldError {
                        field: path.clone(),
                        message,
                    });
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
        }
    }
}

/// 422 `validation_failed` listing every invalid field.
pub fn validation_problem(errors: ValidationErrors) -> ApiError {
    let mut fields = Vec::new();
    flatten("", &errors, &mut fields);
    fields.sort_by(|a, b| a.field.cmp(&b.field));
    let detail = fields
        .iter()
        .map(|f| format!("{} {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ");
    ApiError {
        errors: fields,
        ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_check_ignores_brackets_in_strings() {
        assert!(check_depth(br#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#).is_ok());
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(check_depth(deep.as_bytes()).is_err());
    }
}
