//! `subscriptions`: the HTTP API for subscriptions and events (routed here by API Gateway).
//! Its routes arrive with the API issue; until then every path answers a problem+json 404.

use lambda_http::{Body, Request, Response};
use shared::http::{ProblemKind, problem};

/// Routes one API Gateway request. Never fails: every outcome is an HTTP response.
pub async fn handle(request: Request) -> Response<Body> {
    let detail = format!(
        "No route for {} {}.",
        request.method(),
        request.uri().path()
    );
    problem(ProblemKind::NotFound, &detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_routes_get_problem_json_404() {
        let request = lambda_http::http::Request::builder()
            .uri("https://api.example.com/api/v1/subscriptions")
            .body(Body::Empty)
            .unwrap();
        let response = handle(request).await;
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}
