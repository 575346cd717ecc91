//! RFC 9457 `application/problem+json` errors: the one place an [`ApiError`] becomes an HTTP
//! status.

use super::response::{PROBLEM_JSON, respond};
use crate::api::error::{ApiError, FieldError};
use lambda_http::{Body, Response, http::StatusCode};
use serde::Serialize;

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

/// The body of every error a function answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody<'a> {
    /// `urn:rusthook:problem:<slug>`, stable per kind of problem.
    #[serde(rename = "type")]
    type_: String,
    title: &'a str,
    status: u16,
    /// What the caller can do about it; never internal error text.
    detail: &'a str,
    /// The invalid fields, on a 422.
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

/// The kind of problem an [`ApiError`] is: the one classification of errors into statuses,
/// for the API's problem+json and the portal's pages alike.
#[must_use]
pub const fn problem_kind(error: &ApiError) -> ProblemKind {
    match error {
        ApiError::Unauthorized => ProblemKind::Unauthorized,
        ApiError::NotFound(_) | ApiError::NoRoute { .. } => ProblemKind::NotFound,
        ApiError::MethodNotAllowed { .. } => ProblemKind::MethodNotAllowed,
        ApiError::BadRequest(_) => ProblemKind::BadRequest,
        ApiError::PayloadTooLarge { .. } => ProblemKind::PayloadTooLarge,
        ApiError::UnsupportedMediaType => ProblemKind::UnsupportedMediaType,
        ApiError::Validation(_) => ProblemKind::Validation,
        ApiError::Conflict(_) => ProblemKind::Conflict,
        ApiError::Unavailable => ProblemKind::Unavailable,
        ApiError::Internal(_) => ProblemKind::Internal,
    }
}

/// The one place an [`ApiError`] becomes an HTTP status and body. Internal errors are logged
/// here, with their text, and answered without it.
#[must_use]
pub fn error_response(error: &ApiError) -> Response<Body> {
    let kind = problem_kind(error);
    match error {
        ApiError::Unauthorized => with_header(
            problem(kind, "Send Authorization: Bearer <API key>."),
            "www-authenticate",
            "Bearer",
        ),
        ApiError::NotFound(what) => problem(kind, &format!("No such {what}.")),
        ApiError::NoRoute { method, path } => {
            problem(kind, &format!("No route for {method} {path}."))
        }
        ApiError::MethodNotAllowed { allow } => {
            let allow = allow.join(", ");
            with_header(problem(kind, &format!("Use {allow}.")), "allow", &allow)
        }
        ApiError::BadRequest(detail) => problem(kind, detail),
        ApiError::PayloadTooLarge { limit } => {
            problem(kind, &format!("The body must be at most {limit} bytes."))
        }
        ApiError::UnsupportedMediaType => {
            problem(kind, "Send JSON with Content-Type: application/json.")
        }
        ApiError::Validation(errors) => {
            problem_with_errors(kind, "Some fields are invalid; see errors.", errors)
        }
        ApiError::Conflict(detail) => problem(kind, detail),
        ApiError::Unavailable => with_header(
            problem(kind, "The service is busy; retry shortly."),
            "retry-after",
            "1",
        ),
        ApiError::Internal(text) => {
            tracing::error!(error = %text, "internal error");
            problem(kind, "")
        }
    }
}

#[cfg(test)]
#[path = "problem_tests.rs"]
mod tests;
