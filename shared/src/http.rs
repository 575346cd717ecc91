//! HTTP responses in one place: JSON bodies and RFC 9457 `application/problem+json` errors.
//! Every status an HTTP function answers with is chosen here.

use crate::error::{ApiError, ApiResult, FieldError};
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const JSON: &str = "application/json";

/// The kinds of problem an HTTP route can answer with. Each has a stable public `type`, a status
/// and a title; `detail` says what the caller can fix and never carries internal error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    BadRequest,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Validation,
    Unavailable,
    Internal,
}

impl ProblemKind {
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    #[must_use]
    pub fn slug(self) -> &'static str {
        match self {
            Self::BadRequest => "bad-request",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType => "unsupported-media-type",
            Self::Validation => "validation",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::Unauthorized => "Unauthorized",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict => "Conflict",
            Self::PayloadTooLarge => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Validation => "Validation failed",
            Self::Unavailable => "Temporarily unavailable",
            Self::Internal => "Internal error",
        }
    }
}

#[derive(Debug, Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    type_: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

/// An `application/problem+json` response.
#[must_use]
pub fn problem(kind: ProblemKind, detail: &str) -> Response<Body> {
    problem_with_errors(kind, detail, &[])
}

fn problem_with_errors(kind: ProblemKind, detail: &str, errors: &[FieldError]) -> Response<Body> {
    let detail = if kind == ProblemKind::Internal {
        "The request could not be completed; it is safe to retry."
    } else {
        detail
    };
    let body = ProblemBody {
        type_: format!("urn:rusthook:problem:{}", kind.slug()),
        title: kind.title(),
        status: kind.status().as_u16(),
        detail,
        errors,
    };
    respond(kind.status(), PROBLEM_JSON, &body)
}

fn with_header(mut response: Response<Body>, name: &'static str, value: &str) -> Response<Body> {
    if let Ok(value) = value.parse() {
        response.headers_mut().insert(name, value);
    }
    response
}

/// The one place an [`ApiError`] becomes an HTTP status and body. Internal errors are logged
/// here, with their text, and answered without it.
#[must_use]
pub fn error_response(error: &ApiError) -> Response<Body> {
    match error {
        ApiError::Unauthorized => with_header(
            problem(
                ProblemKind::Unauthorized,
                "Send Authorization: Bearer <API key>.",
            ),
            "www-authenticate",
            "Bearer",
        ),
        ApiError::NotFound(what) => problem(ProblemKind::NotFound, &format!("No such {what}.")),
        ApiError::NoRoute { method, path } => problem(
            ProblemKind::NotFound,
            &format!("No route for {method} {path}."),
        ),
        ApiError::MethodNotAllowed { allow } => {
            let allow = allow.join(", ");
            with_header(
                problem(ProblemKind::MethodNotAllowed, &format!("Use {allow}.")),
                "allow",
                &allow,
            )
        }
        ApiError::BadRequest(detail) => problem(ProblemKind::BadRequest, detail),
        ApiError::PayloadTooLarge { limit } => problem(
            ProblemKind::PayloadTooLarge,
            &format!("The body must be at most {limit} bytes."),
        ),
        ApiError::UnsupportedMediaType => problem(
            ProblemKind::UnsupportedMediaType,
            "Send JSON with Content-Type: application/json.",
        ),
        ApiError::Validation(errors) => problem_with_errors(
            ProblemKind::Validation,
            "Some fields are invalid; see errors.",
            errors,
        ),
        ApiError::Conflict(detail) => problem(ProblemKind::Conflict, detail),
        ApiError::Unavailable => with_header(
            problem(
                ProblemKind::Unavailable,
                "The service is busy; retry shortly.",
            ),
            "retry-after",
            "1",
        ),
        ApiError::Internal(text) => {
            tracing::error!(error = %text, "internal error");
            problem(ProblemKind::Internal, "")
        }
    }
}

/// 204 with no body.
#[must_use]
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// A JSON response with the given status.
#[must_use]
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    respond(status, JSON, body)
}

fn respond<T: Serialize>(status: StatusCode, content_type: &str, body: &T) -> Response<Body> {
    // Serialising our own plain structs cannot fail; fall back to an empty body rather than panic.
    let text = serde_json::to_string(body).unwrap_or_default();
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(lambda_http::http::header::CONTENT_TYPE, value);
    }
    response
}

/// The response for a dispatched request (errors mapped by [`error_response`]), with one log
/// line: method, path, status, duration. Never the body, the key or any other header.
#[must_use]
pub fn finish(
    request: &Request,
    started: std::time::Instant,
    outcome: ApiResult<Response<Body>>,
) -> Response<Body> {
    let response = outcome.unwrap_or_else(|error| error_response(&error));
    tracing::info!(
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis(),
        "request"
    );
    response
}

/// Largest request body accepted (API Gateway itself allows 10 MB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A request header as text.
#[must_use]
pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A query string parameter (the first, when repeated).
#[must_use]
pub fn query(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// Whether the request carries a body at all.
#[must_use]
pub fn has_body(request: &Request) -> bool {
    match request.body() {
        Body::Text(text) => !text.trim().is_empty(),
        Body::Binary(bytes) => !bytes.is_empty(),
        _ => false,
    }
}

/// The JSON body of a request, as `T`.
///
/// # Errors
/// 413 over [`MAX_BODY_BYTES`]; 415 when not declared JSON; 400 when not UTF-8, not JSON, of
/// the wrong shape, or with unknown fields.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> ApiResult<T> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => return Err(ApiError::BadRequest("unreadable body".into())),
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let media_type = header(request, "content-type")
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if media_type != JSON
        && !(media_type.starts_with("application/") && media_type.ends_with("+json"))
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("a JSON body is required".into()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    serde_json::from_str(text).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Routes of one function: `(method, path template)`; `{name}` is a path parameter.
pub type Routes = &'static [(&'static str, &'static str)];

/// Which route a request is for, and its path parameters.
///
/// # Errors
/// 404 for a path no route has; 405 (with the allowed methods) for a path with other methods.
pub fn route(
    routes: Routes,
    method: &str,
    path: &str,
) -> ApiResult<(&'static str, HashMap<String, String>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut allow = Vec::new();
    for (route_method, template) in routes {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut params = HashMap::new();
        let matched = parts.iter().zip(&segments).all(|(part, segment)| {
            match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !segment.is_empty() => {
                    params.insert(name.to_owned(), (*segment).to_owned());
                    true
                }
                Some(_) => false,
                None => part == segment,
            }
        });
        if !matched {
            continue;
        }
        if *route_method == method {
            return Ok((template, params));
        }
        allow.push(*route_method);
    }
    if allow.is_empty() {
        Err(ApiError::NoRoute {
            method: method.to_owned(),
            path: path.to_owned(),
        })
    } else {
        Err(ApiError::MethodNotAllowed { allow })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(response: &Response<Body>) -> serde_json::Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn problem_has_rfc9457_shape_and_content_type() {
        let response = problem(ProblemKind::NotFound, "No route for GET /nope");
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["content-type"], PROBLEM_JSON);
        let body = body_json(&response);
        assert_eq!(body["type"], "urn:rusthook:problem:not-found");
        assert_eq!(body["title"], "Not found");
        assert_eq!(body["status"], 404);
        assert_eq!(body["detail"], "No route for GET /nope");
    }

    #[test]
    fn internal_problems_never_carry_the_given_detail() {
        let response = problem(
            ProblemKind::Internal,
            "dynamodb: ResourceNotFoundException table x",
        );
        assert_eq!(response.status(), 500);
        let detail = body_json(&response)["detail"].as_str().unwrap().to_owned();
        assert!(!detail.contains("dynamodb"), "{detail}");
    }
}
