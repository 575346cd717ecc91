//! The local API Gateway stand-in routes template.yaml's HTTP API over real HTTP to the real
//! handlers, in payload format 2.0, through lambda_http's own adapter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use devstack::template::Template;
use std::path::Path;
use std::sync::Arc;

async fn start_gateway() -> String {
    let template =
        Template::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
    let routes = template.http_routes().unwrap();
    let invoker = common::api::http_functions(Arc::new(common::api::api()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(devstack::gateway::serve(
        listener,
        routes,
        Arc::new(invoker),
    ));
    format!("http://{address}")
}

#[tokio::test]
async fn health_is_routed_to_resources() {
    let base = start_gateway().await;
    let response = reqwest::get(format!("{base}/api/v1/health")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["function"], "resources");
}

/// Issue 18's D7: what no route matches reaches the API's `$default` route, whose function
/// answers problem+json: 405 with `Allow` (the path's methods, whichever function serves them)
/// or 404, with or without a key.
#[tokio::test]
async fn unrouted_requests_reach_the_default_route_and_get_404_or_405_problems() {
    let base = start_gateway().await;
    let client = reqwest::Client::new();
    for (method, path, status, allow) in [
        ("GET", "/nope", 404, None),
        ("GET", "/", 404, None),
        ("GET", "/api/v1/health/extra", 404, None),
        ("GET", "/api/v1/users/", 404, None),
        ("DELETE", "/api/v1/health", 405, Some("GET")),
        ("PATCH", "/api/v1/users", 405, Some("POST, GET")),
        (
            "TRACE",
            "/api/v1/users/usr_1",
            405,
            Some("GET, PUT, DELETE"),
        ),
        (
            "PUT",
            "/api/v1/subscriptions/sub_1",
            405,
            Some("GET, PATCH, DELETE"),
        ),
        ("OPTIONS", "/api/v1/events", 405, Some("POST, GET")),
    ] {
        for key in [None, Some("Bearer whk_nonsense")] {
            let mut request = client.request(method.parse().unwrap(), format!("{base}{path}"));
            if let Some(key) = key {
                request = request.header("authorization", key);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), status, "{method} {path}");
            assert_eq!(
                response.headers().get("allow").map(|v| v.to_str().unwrap()),
                allow,
                "{method} {path}"
            );
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["status"], status, "{body}");
        }
    }
}

#[tokio::test]
async fn bodies_over_api_gateways_limit_are_refused() {
    let base = start_gateway().await;
    let body = vec![b'a'; devstack::gateway::MAX_BODY_BYTES + 1];
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/health"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn the_authorizer_runs_first_and_the_functions_check_account_keys_again() {
    use devstack::invoke::Invoker;
    let base = start_gateway().await;
    let client = reqwest::Client::new();
    let get = |key: Option<&str>| {
        let mut request = client.get(format!("{base}/api/v1/users"));
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        request.send()
    };
    // No Authorization header: API Gateway answers 401 itself.
    let response = get(None).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Unauthorized");
    // A key the authorizer does not know: 403, from API Gateway too.
    let response = get(Some("rhk_not-a-key")).await.unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Forbidden");
    // The admin key creates an account through the authorizer; its key then reads.
    let response = client
        .post(format!("{base}/api/v1/accounts"))
        .header(
            "authorization",
            format!("Bearer {}", common::api::ADMIN_KEY),
        )
        .json(&serde_json::json!({"name": "via-authorizer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let account: serde_json::Value = response.json().await.unwrap();
    let response = get(account["api_key"].as_str()).await.unwrap();
    assert_eq!(response.status(), 200);

    // A function given an authorizer context looks an account key up again (a revoked key is
    // refused at once, whatever the gateway cached): the header must hold a key of that account.
    let api = Arc::new(common::api::api());
    let key = common::api::account(&api, "vouched").await;
    let owner = {
        common::api::call(&api, "POST", "/api/v1/subscriptions/test", &key, None).await;
        api.store.events()[0].account_id.to_string()
    };
    let invoker = common::api::http_functions(Arc::clone(&api));
    let event = |account: &str, header: Option<&str>| {
        let headers = header.map_or_else(
            || serde_json::json!({}),
            |key| serde_json::json!({"authorization": format!("Bearer {key}")}),
        );
        serde_json::json!({
            "version": "2.0", "routeKey": "GET /api/v1/users", "rawPath": "/api/v1/users",
            "rawQueryString": "", "headers": headers,
            "requestContext": {
                "http": {"method": "GET", "path": "/api/v1/users", "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "test"},
                "authorizer": {"lambda": {"caller": "account", "account_id": account}},
                "requestId": "r", "routeKey": "GET /api/v1/users", "stage": "$default",
                "timeEpoch": 0
            },
            "isBase64Encoded": false
        })
    };
    let answer = invoker
        .invoke("resources", event(&owner, Some(&key)))
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let answer = invoker
        .invoke("resources", event(&owner, None))
        .await
        .unwrap();
    assert_eq!(
        answer["statusCode"], 401,
        "vouched for, but no key: {answer}"
    );
    let stranger = "acc_01KSAMP1E0000000000000VCHD";
    let answer = invoker
        .invoke("resources", event(stranger, Some(&key)))
        .await
        .unwrap();
    assert_eq!(
        answer["statusCode"], 401,
        "a key of another account: {answer}"
    );
    let mut unvouched = event(&owner, None);
    unvouched["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let answer = invoker.invoke("resources", unvouched).await.unwrap();
    assert_eq!(answer["statusCode"], 401, "no context, no header: {answer}");
}

/// What the fuzzer found: an `Idempotency-Key` that is not visible ASCII (bytes past ASCII,
/// which HTTP allows in a header) was taken for no key and the event published; a literal
/// segment is its own resource, not an id (`PATCH /subscriptions/test` was a 404).
#[tokio::test]
async fn fuzzer_findings_an_idempotency_key_that_is_not_text_and_literal_paths() {
    let api = std::sync::Arc::new(common::api::api());
    let key = common::api::account(&api, "acme").await;
    let template =
        Template::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(devstack::gateway::serve(
        listener,
        template.http_routes().unwrap(),
        Arc::new(common::api::http_functions(Arc::clone(&api))),
    ));
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/events"))
        .header("authorization", format!("Bearer {key}"))
        .header(
            "idempotency-key",
            reqwest::header::HeaderValue::from_bytes(b"\xd7\xf8\x9b").unwrap(),
        )
        .json(&serde_json::json!({"type": "order.received", "payload": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key", "{body}");
    assert!(api.store.events().is_empty());
    for method in ["PATCH", "GET", "DELETE"] {
        let response = reqwest::Client::new()
            .request(
                method.parse().unwrap(),
                format!("{base}/api/v1/subscriptions/test"),
            )
            .header("authorization", format!("Bearer {key}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "POST");
    }
}
