//! Hostile and malformed requests, over real HTTP through the local API Gateway stand-in to the
//! real handlers: every one gets a 4xx application/problem+json answer, never a 5xx.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use devstack::template::Template;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

struct Case {
    method: &'static str,
    path: String,
    content_type: Option<&'static str>,
    auth: bool,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

fn case(method: &'static str, path: &str, body: impl Into<Vec<u8>>) -> Case {
    Case {
        method,
        path: path.to_owned(),
        content_type: Some("application/json"),
        auth: true,
        body: body.into(),
        headers: Vec::new(),
    }
}

fn json_case(method: &'static str, path: &str, body: &serde_json::Value) -> Case {
    case(method, path, body.to_string())
}

fn deep(open: &str, close: &str, depth: usize) -> Vec<u8> {
    format!("{}{}", open.repeat(depth), close.repeat(depth)).into_bytes()
}

#[tokio::test]
async fn hostile_requests_get_only_4xx_problem_json() {
    let api = Arc::new(common::api::api());
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

    let user = json!({"username": "adam12", "password": "abc123"});
    let mut cases = Vec::new();
    // Huge bodies (over the 256 KB limit, under API Gateway's 10 MB).
    for path in ["/api/v1/users", "/api/v1/subscriptions", "/api/v1/events"] {
        cases.push(case("POST", path, vec![b'a'; 1024 * 1024]));
    }
    cases.push(json_case(
        "POST",
        "/api/v1/events",
        &json!({"type": "a.b", "payload": {"blob": "x".repeat(300 * 1024)}}),
    ));
    // Wrong or missing content types.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/xml"),
        Some("multipart/form-data; boundary=x"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonp"),
    ] {
        cases.push(Case {
            content_type,
            ..json_case("POST", "/api/v1/users", &user)
        });
    }
    // Invalid UTF-8.
    for path in [
        "/api/v1/users",
        "/api/v1/subscriptions",
        "/api/v1/events",
        "/api/v1/accounts",
    ] {
        cases.push(case("POST", path, vec![b'{', 0xC3, 0x28, 0xFF, b'}']));
    }
    // Deeply nested JSON.
    cases.push(case("POST", "/api/v1/users", deep("[", "]", 10_000)));
    cases.push(case("POST", "/api/v1/events", deep("{\"a\":", "}", 5_000)));
    let nested = format!(
        "{{\"type\":\"a.b\",\"payload\":{}1{}}}",
        "{\"a\":".repeat(300),
        "}".repeat(300)
    );
    cases.push(case("POST", "/api/v1/events", nested));
    // Wrong shapes and types.
    for body in [
        json!([]),
        json!("user"),
        json!(42),
        json!(null),
        json!({"username": 123, "password": "abc123"}),
        json!({"username": null, "password": "abc123"}),
        json!({"username": "adam12", "password": "abc123", "role": "admin"}),
    ] {
        cases.push(json_case("POST", "/api/v1/users", &body));
    }
    cases.push(case(
        "POST",
        "/api/v1/users",
        "{\"username\":\"adam12\",\"password\":\"abc123\"",
    ));
    // SQL / NoSQL-ish strings.
    for username in [
        "' OR 1=1 --",
        "{\"$gt\": \"\"}",
        "admin'--",
        "<script>alert(1)</script>",
        "a\u{0000}b",
        "../../etc/passwd",
        "ab",
    ] {
        cases.push(json_case(
            "POST",
            "/api/v1/users",
            &json!({"username": username, "password": "abc123"}),
        ));
    }
    cases.push(json_case(
        "POST",
        "/api/v1/users",
        &json!({"username": {"$ne": null}, "password": "abc123"}),
    ));
    for path in [
        "/api/v1/users/'%20OR%20'1'='1",
        "/api/v1/users/%7B%22$ne%22:null%7D",
        "/api/v1/subscriptions/sub_x;DROP",
        "/api/v1/events/evt_%00",
    ] {
        cases.push(case("GET", path, ""));
    }
    for cursor in [
        "%%%",
        "QUNDI2FjY19vdGhlciNVU0VSI3g",
        "eyJway",
        &"A".repeat(5000),
    ] {
        cases.push(case("GET", &format!("/api/v1/users?cursor={cursor}"), ""));
    }
    for event_type in [
        "user.created; DROP TABLE events",
        "$where",
        "user..created",
        "ÜSER.created",
    ] {
        cases.push(json_case(
            "POST",
            "/api/v1/events",
            &json!({"type": event_type, "payload": {}}),
        ));
    }
    // Private, metadata and otherwise forbidden target URLs.
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://017700000001/",
        "https://127.1/",
        "https://10.0.0.1/",
        "https://192.168.1.1/",
        "https://172.16.0.1/",
        "https://[::1]/",
        "https://[fd00:ec2::254]/",
        "https://100.100.100.200/",
        "https://localhost/",
        "https://metadata.example.com/",
        "file:///etc/passwd",
        "gopher://8.8.8.8/",
        "javascript:alert(1)",
        "https://user:pass@8.8.8.8/",
        "ftp://8.8.8.8/",
        "http://8.8.8.8/",
        "",
        "https://",
    ] {
        cases.push(json_case(
            "POST",
            "/api/v1/subscriptions",
            &json!({"url": url, "event_types": ["*"]}),
        ));
    }
    cases.push(json_case(
        "POST",
        "/api/v1/subscriptions",
        &json!({"url": format!("https://8.8.8.8/{}", "a".repeat(3000)), "event_types": ["*"]}),
    ));
    // Bad parameters and headers.
    for query in ["limit=-1", "limit=1e9", "limit=abc", "limit=0"] {
        cases.push(case("GET", &format!("/api/v1/events?{query}"), ""));
    }
    cases.push(Case {
        headers: vec![("idempotency-key", "k".repeat(300))],
        ..json_case(
            "POST",
            "/api/v1/events",
            &json!({"type": "a.b", "payload": {}}),
        )
    });
    cases.push(json_case(
        "POST",
        "/api/v1/events",
        &json!({"type": "a.b", "payload": "not an object"}),
    ));
    // Credentials.
    cases.push(Case {
        auth: false,
        ..case("GET", "/api/v1/users", "")
    });
    cases.push(Case {
        headers: vec![("authorization", "Bearer rhk_forged".to_owned())],
        auth: false,
        ..case("GET", "/api/v1/events", "")
    });
    cases.push(Case {
        headers: vec![("authorization", format!("Bearer {}", "x".repeat(10_000)))],
        auth: false,
        ..case("GET", "/api/v1/events", "")
    });
    cases.push(json_case(
        "POST",
        "/api/v1/accounts",
        &json!({"name": "evil"}),
    ));
    // Wrong methods and unknown paths, with the key and without.
    for (method, path) in [
        ("PATCH", "/api/v1/users"),
        ("GET", "/api/v1/users/usr_1/extra"),
        ("TRACE", "/api/v1/events"),
        ("OPTIONS", "/api/v1/subscriptions"),
        ("GET", "/api/v1/subscriptions/"),
        ("GET", "/nothing/here"),
    ] {
        cases.push(case(method, path, ""));
        cases.push(Case {
            auth: false,
            ..case(method, path, "")
        });
    }

    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let client = reqwest::Client::new();
    for (index, case) in cases.into_iter().enumerate() {
        let mut request = client
            .request(case.method.parse().unwrap(), format!("{base}{}", case.path))
            .body(case.body);
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        if case.auth {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        for (name, value) in &case.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        assert!(
            (400..500).contains(&status),
            "case {index} {} {}: status {status}: {text}",
            case.method,
            case.path
        );
        // API Gateway's own answers are {"message": …}: 401 without an Authorization header,
        // 403 when the authorizer refuses the key. Everything a function answers is a problem,
        // unrouted requests too (the $default route).
        if text.contains("\"message\"") && [401, 403].contains(&status) {
            continue;
        }
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "case {index}: {text}"
        );
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["status"], status, "case {index}");
        assert!(
            body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(),
            "case {index}: {text}"
        );
    }
}
