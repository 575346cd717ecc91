//! Tests of `gateway.rs`.

use super::*;

fn routes(defs: &[(&str, &str, &str)]) -> Vec<Route> {
    defs.iter()
        .map(|(m, p, b)| {
            Route::new(RouteDef {
                method: (*m).into(),
                path: (*p).into(),
                binary: (*b).into(),
                authorizer: None,
            })
        })
        .collect()
}

#[test]
fn most_specific_route_wins() {
    let table = routes(&[
        ("GET", "/api/v1/users/{id}", "by-id"),
        ("GET", "/api/v1/users/me", "me"),
        ("ANY", "/api/v1/{proxy+}", "catch-all"),
        ("GET", "/api/v1/users", "list"),
    ]);
    let pick = |m: &str, p: &str| {
        find_route(&table, m, p).map(|(r, c)| (r.def.binary.clone(), Value::Object(c)))
    };
    assert_eq!(
        pick("GET", "/api/v1/users/me"),
        Some(("me".into(), json!({})))
    );
    assert_eq!(
        pick("GET", "/api/v1/users/usr_1"),
        Some(("by-id".into(), json!({"id": "usr_1"})))
    );
    assert_eq!(
        pick("GET", "/api/v1/users"),
        Some(("list".into(), json!({})))
    );
    assert_eq!(
        pick("POST", "/api/v1/users/x/y"),
        Some(("catch-all".into(), json!({"proxy": "users/x/y"})))
    );
    assert_eq!(pick("GET", "/other"), None);
    assert_eq!(
        pick("GET", "/api/v1/users/"),
        Some(("catch-all".into(), json!({"proxy": "users/"}))),
        "an empty segment is not a parameter, so only the greedy route matches"
    );
    let without_greedy = routes(&[("GET", "/api/v1/users/{id}", "by-id")]);
    assert!(find_route(&without_greedy, "GET", "/api/v1/users/").is_none());
}

#[test]
fn unmatched_requests_go_to_the_default_route() {
    let table = routes(&[
        ("GET", "/api/v1/users", "list"),
        ("ANY", crate::template::DEFAULT_ROUTE, "fallback"),
    ]);
    let pick = |m: &str, p: &str| find_route(&table, m, p).map(|(r, c)| (r.route_key(), c.len()));
    assert_eq!(
        pick("GET", "/api/v1/users"),
        Some(("GET /api/v1/users".into(), 0))
    );
    for (method, path) in [
        ("PATCH", "/api/v1/users"),
        ("GET", "/api/v1/users/"),
        ("TRACE", "/"),
        ("GET", "/$default"),
    ] {
        assert_eq!(
            pick(method, path),
            Some(("$default".into(), 0)),
            "{method} {path}"
        );
    }
}

#[test]
fn event_has_payload_v2_shape() {
    let table = routes(&[("POST", "/api/v1/photos/{photo_id}/likes", "resources")]);
    let (route, captures) = find_route(&table, "POST", "/api/v1/photos/p%201/likes").unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("Bearer k"));
    headers.append("x-multi", HeaderValue::from_static("a"));
    headers.append("x-multi", HeaderValue::from_static("b"));
    headers.insert("cookie", HeaderValue::from_static("a=1; b=2"));
    let request = IncomingRequest {
        method: "POST",
        path: "/api/v1/photos/p%201/likes",
        query: "x=1&x=2&q=a%20b",
        headers: &headers,
        body: b"{\"a\":1}",
        source_ip: "127.0.0.1".into(),
        request_id: "r1".into(),
    };
    let event = api_gateway_event(route, captures, &request);
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "POST /api/v1/photos/{photo_id}/likes");
    assert_eq!(event["pathParameters"], json!({"photo_id": "p 1"}));
    assert_eq!(
        event["queryStringParameters"],
        json!({"x": "1,2", "q": "a b"})
    );
    assert_eq!(event["headers"]["x-multi"], "a,b");
    assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(event["body"], "{\"a\":1}");
    assert_eq!(event["isBase64Encoded"], false);
    // lambda_http must accept it as an API Gateway v2 request.
    let parsed: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
        serde_json::from_value(event).unwrap();
    assert_eq!(
        parsed.raw_path.as_deref(),
        Some("/api/v1/photos/p%201/likes")
    );
}

#[test]
fn binary_bodies_are_base64() {
    let table = routes(&[("POST", "/x", "f")]);
    let (route, captures) = find_route(&table, "POST", "/x").unwrap();
    let headers = http::HeaderMap::new();
    let request = IncomingRequest {
        method: "POST",
        path: "/x",
        query: "",
        headers: &headers,
        body: &[0xff, 0xfe],
        source_ip: "127.0.0.1".into(),
        request_id: "r".into(),
    };
    let event = api_gateway_event(route, captures, &request);
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "//4=");
}

#[test]
fn function_results_become_http_responses() {
    let response = http_response(&json!({
        "statusCode": 201,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {"x-a": ["1", "2"]},
        "cookies": ["s=1"],
        "body": "{}",
        "isBase64Encoded": false
    }));
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers().get_all("x-a").iter().count(), 2);
    assert_eq!(response.headers()["set-cookie"], "s=1");
    let bare = http_response(&json!({"hello": "world"}));
    assert_eq!(bare.status(), 200);
}
