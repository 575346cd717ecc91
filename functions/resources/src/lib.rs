//! `resources`: the HTTP API for users and photo likes (routed here by API Gateway).

use lambda_http::{Body, Request, Response, http::Method, http::StatusCode};
use serde_json::json;
use shared::http::{ProblemKind, json as json_response, problem};

/// Routes one API Gateway request. Never fails: every outcome is an HTTP response.
pub async fn handle(request: Request) -> Response<Body> {
    let path = request.uri().path();
    match (request.method(), path) {
        (&Method::GET, "/api/v1/health") => json_response(
            StatusCode::OK,
            &json!({"status": "ok", "service": shared::PRODUCT, "function": "resources"}),
        ),
        (_, "/api/v1/health") => problem(ProblemKind::MethodNotAllowed, "Use GET."),
        (method, path) => problem(
            ProblemKind::NotFound,
            &format!("No route for {method} {path}."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str) -> Request {
        lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://api.example.com{path}"))
            .body(Body::Empty)
            .unwrap()
    }

    #[tokio::test]
    async fn health_answers_ok() {
        let response = handle(request("GET", "/api/v1/health")).await;
        assert_eq!(response.status(), 200);
        let Body::Text(text) = response.body() else {
            panic!("text body")
        };
        let body: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(body["status"], "ok");
    }

    #[tokio::test]
    async fn unknown_routes_get_problem_json_404() {
        let response = handle(request("GET", "/api/v1/nope")).await;
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }

    #[tokio::test]
    async fn wrong_method_on_health_is_405() {
        assert_eq!(
            handle(request("DELETE", "/api/v1/health")).await.status(),
            405
        );
    }
}
