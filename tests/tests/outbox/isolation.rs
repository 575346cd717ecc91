//! Custom events with idempotency keys and listings; accounts see only their own data.

use crate::common;
use crate::common::api::{account, call, id_routes};
use crate::support::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_events_idempotency_and_listing() {
    let (clients, stack, api) = dynamo_api("outbox-events").await;
    let key = account(&api, "acme").await;
    let acc = account_id(&api, &key).await;
    let body = json!({"type": "order.received", "payload": {"order": 7, "lines": [{"sku": "a", "qty": 1.5}], "note": ""}});
    let first = common::api::send(
        &api,
        common::api::request(
            "POST",
            "/api/v1/events",
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/json"),
                ("idempotency-key", "order-7"),
            ],
            Some(body.to_string().into_bytes()),
        ),
    )
    .await;
    assert_eq!(first.status, 202, "{}", first.body);
    let again = common::api::send(
        &api,
        common::api::request(
            "POST",
            "/api/v1/events",
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/json"),
                ("idempotency-key", "order-7"),
            ],
            Some(body.to_string().into_bytes()),
        ),
    )
    .await;
    assert_eq!(again.body["id"], first.body["id"]);
    let events = events_of(&clients, &stack, &acc).await;
    assert_eq!(events.len(), 1, "the replay wrote nothing");
    assert_eq!(
        events[0].data, body["payload"],
        "payloads survive storage unchanged"
    );

    call(&api, "POST", "/api/v1/photos/p/likes", &key, None).await;
    let listed = call(&api, "GET", "/api/v1/events", &key, None).await;
    let types: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["photo.liked", "order.received"], "newest first");
    let by_type = call(
        &api,
        "GET",
        "/api/v1/events?type=order.received&limit=1",
        &key,
        None,
    )
    .await;
    assert_eq!(by_type.status, 200, "{}", by_type.body);
    assert_eq!(by_type.body["data"][0]["id"], first.body["id"]);
    assert!(by_type.body["next_cursor"].is_null());
    let fetched = call(
        &api,
        "GET",
        &format!("/api/v1/events/{}", first.body["id"].as_str().unwrap()),
        &key,
        None,
    )
    .await;
    assert_eq!(fetched.body["data"], body["payload"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_see_only_their_own_data_on_dynamodb() {
    let (clients, stack, api) = dynamo_api("outbox-tenants").await;
    let owner = account(&api, "owner").await;
    let stranger = account(&api, "stranger").await;
    let stranger_id = account_id(&api, &stranger).await;
    let user = call(
        &api,
        "POST",
        "/api/v1/users",
        &owner,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    call(&api, "POST", "/api/v1/photos/p1/likes", &owner, None).await;
    let sub = call(
        &api,
        "POST",
        "/api/v1/subscriptions",
        &owner,
        Some(json!({"url": "https://hooks.example.com/", "event_types": ["user.*"]})),
    )
    .await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    let event = call(
        &api,
        "POST",
        "/api/v1/events",
        &owner,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let ids = [&user.body["id"], &sub.body["id"], &event.body["id"]]
        .map(|v: &Value| v.as_str().unwrap().to_owned());
    for (method, path, body) in id_routes(&ids[0], "p1", &ids[1], &ids[2]) {
        let reply = call(&api, method, &path, &stranger, body).await;
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
    }
    for path in [
        "/api/v1/users",
        "/api/v1/subscriptions",
        "/api/v1/events",
        "/api/v1/subscriptions?event_type=user.created",
    ] {
        assert_eq!(
            call(&api, "GET", path, &stranger, None).await.body["data"],
            json!([]),
            "{path}"
        );
    }
    assert!(events_of(&clients, &stack, &stranger_id).await.is_empty());
    let filtered = call(
        &api,
        "GET",
        "/api/v1/subscriptions?event_type=user.created",
        &owner,
        None,
    )
    .await;
    assert_eq!(filtered.body["data"].as_array().unwrap().len(), 1);
    let none = call(
        &api,
        "GET",
        "/api/v1/subscriptions?event_type=photo.liked",
        &owner,
        None,
    )
    .await;
    assert_eq!(none.body["data"], json!([]));
    let rotated = call(
        &api,
        "POST",
        &format!("/api/v1/subscriptions/{}/secret/rotate", ids[1]),
        &owner,
        None,
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
}
