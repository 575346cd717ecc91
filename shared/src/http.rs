//! HTTP responses in one place: JSON bodies and RFC 9457 `application/problem+json` errors.
//! Every status an HTTP function answers with is chosen here.

use lambda_http::{Body, Response, http::StatusCode};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const JSON: &str = "application/json";

/// The errors an HTTP route can answer with. Each kind has a stable public `type`, a status and
/// a title; `detail` says what the caller can fix and never carries internal error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    NotFound,
    MethodNotAllowed,
    Internal,
}

impl ProblemKind {
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    #[must_use]
    pub fn slug(self) -> &'static str {
        match self {
            Self::NotFound => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Internal => "internal",
        }
    }

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
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
}

/// An `application/problem+json` response.
#[must_use]
pub fn problem(kind: ProblemKind, detail: &str) -> Response<Body> {
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
    };
    respond(kind.status(), PROBLEM_JSON, &body)
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
