//! Problem bodies: their RFC 9457 shape, and no internal text in a 500.

use super::*;
use lambda_http::Body;

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
