//! Hostile values in every string field of every request body, in path ids and query parameters,
//! and hostile bodies on every write route (1 MB, 10 MB, 10,000-deep JSON). A refused one gets a
//! 4xx problem and leaves everything stored as it was (the in-memory store's snapshot, compared
//! whole); a kept one reads back exactly.

mod cases;

use super::support::assert_problem;
use crate::common::api::{ADMIN_KEY, Reply, TestApi, api, call, id_routes, request, send};
use cases::{ReadBack, SLOT, fields, hostile_values, seed};
use serde_json::{Value, json};

async fn raw(api: &TestApi, method: &str, path: &str, key: &str, body: Vec<u8>) -> Reply {
    let auth = format!("Bearer {key}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(api, request(method, path, &headers, Some(body))).await
}

#[tokio::test]
async fn hostile_strings_in_every_field_are_refused_or_kept_exactly() {
    let api = api();
    let seeded = seed(&api).await;
    let slot = serde_json::to_string(SLOT).unwrap();
    for (n, field) in fields(&seeded).into_iter().enumerate() {
        for (m, value) in hostile_values().into_iter().enumerate() {
            // Each kept body creates something new: `{n}` tells their names apart.
            let body = field
                .body
                .to_string()
                .replace(&slot, &value.literal)
                .replace("{n}", &format!("{n}{m}"));
            let key = if field.admin { ADMIN_KEY } else { &seeded.key };
            let before = api.store.snapshot();
            let reply = raw(&api, field.method, &field.path, key, body.into_bytes()).await;
            let case = format!(
                "{} {} {}: {}",
                field.method, field.path, field.pointer, value.name
            );
            if !field.keeps.contains(&value.name) {
                assert!(
                    (400..500).contains(&reply.status),
                    "{case}: {} {}",
                    reply.status,
                    reply.body
                );
                assert_problem(&reply, reply.status);
                assert!(before == api.store.snapshot(), "{case}: the store changed");
                continue;
            }
            assert!(
                reply.status < 300,
                "{case}: {} {}",
                reply.status,
                reply.body
            );
            let Some(text) = value.text.as_deref() else {
                continue;
            };
            let path = match (&field.read_back, reply.body["id"].as_str()) {
                (ReadBack::Never, _) => continue,
                (ReadBack::Answer, _) => {
                    assert!(holds(&reply.body, text), "{case}: {}", reply.body);
                    continue;
                }
                (ReadBack::List(path), _) => (*path).to_owned(),
                (ReadBack::Get, Some(id)) if field.method == "POST" => {
                    format!("{}/{id}", field.path)
                }
                (ReadBack::Get, _) => field.path.clone(),
            };
            // What was created or changed, read again: the value exactly as sent.
            let read = call(&api, "GET", &path, key, None).await;
            assert_eq!(read.status, 200, "{case}: GET {path}");
            assert!(holds(&read.body, text), "{case}: GET {path}: {}", read.body);
        }
    }
}

/// Whether `value` holds the string `text` somewhere.
fn holds(value: &Value, text: &str) -> bool {
    match value {
        Value::String(s) => s == text,
        Value::Array(items) => items.iter().any(|v| holds(v, text)),
        Value::Object(map) => map.values().any(|v| holds(v, text)),
        _ => false,
    }
}

#[tokio::test]
async fn hostile_path_ids_and_query_parameters_are_refused() {
    let api = api();
    let seeded = seed(&api).await;
    let before = api.store.snapshot();
    for id in [
        "%00",
        "a%00b",
        "%F0%9F%8E%89",
        "%E2%80%AE",
        "%0A",
        &"x".repeat(2_000),
    ] {
        for (method, path, body) in id_routes(id, id, id, id) {
            let reply = call(&api, method, &path, &seeded.key, body).await;
            assert!(
                (400..500).contains(&reply.status),
                "{method} {path}: {}",
                reply.status
            );
            assert_problem(&reply, reply.status);
        }
    }
    for query in [
        "events?type=%00",
        "events?type=%F0%9F%8E%89",
        "events?cursor=%00",
        "events?limit=%00",
        "users?cursor=%F0%9F%8E%89",
        "subscriptions?cursor=%E2%80%AE",
        &format!("events?type={}", "a".repeat(10_000)),
    ] {
        let reply = call(&api, "GET", &format!("/api/v1/{query}"), &seeded.key, None).await;
        assert!(
            (400..500).contains(&reply.status),
            "{query}: {} {}",
            reply.status,
            reply.body
        );
        assert_problem(&reply, reply.status);
    }
    assert!(before == api.store.snapshot(), "the store changed");
}

#[tokio::test]
async fn huge_and_deep_bodies_on_every_write_route_are_refused() {
    let api = api();
    let seeded = seed(&api).await;
    let before = api.store.snapshot();
    let mut routes: Vec<(&str, String)> =
        id_routes(&seeded.user, "p1", &seeded.subscription, &seeded.event)
            .into_iter()
            .filter(|(_, _, body)| body.is_some())
            .map(|(method, path, _)| (method, path))
            .collect();
    for path in [
        "/api/v1/users",
        "/api/v1/subscriptions",
        "/api/v1/events",
        "/api/v1/api-keys",
    ] {
        routes.push(("POST", path.to_owned()));
    }
    routes.push(("PUT", "/api/v1/sample-events".to_owned()));
    let deep = |open: &str, close: &str| {
        format!("{}{}", open.repeat(10_000), close.repeat(10_000)).into_bytes()
    };
    let mb = 1024 * 1024;
    let bodies = [
        ("1 MB", vec![b'a'; mb]),
        ("10 MB", vec![b' '; 10 * mb]),
        (
            "1 MB of JSON",
            json!({"type": "a.b", "payload": {"s": "x".repeat(mb)}})
                .to_string()
                .into_bytes(),
        ),
        ("10,000-deep arrays", deep("[", "]")),
        ("10,000-deep objects", deep("{\"a\":", "}")),
    ];
    for (method, path) in &routes {
        for (name, body) in &bodies {
            let reply = raw(&api, method, path, &seeded.key, body.clone()).await;
            assert!(
                (400..500).contains(&reply.status),
                "{method} {path} {name}: {} {}",
                reply.status,
                reply.body
            );
            assert_problem(&reply, reply.status);
        }
    }
    let reply = raw(&api, "POST", "/api/v1/accounts", ADMIN_KEY, deep("[", "]")).await;
    assert_problem(&reply, 400);
    assert!(before == api.store.snapshot(), "the store changed");
}
