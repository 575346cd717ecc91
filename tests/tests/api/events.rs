//! Custom events and idempotency keys.

use crate::common::api::{account, api, call, request, send};
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn custom_events_with_idempotency_keys() {
    let api = api();
    let key = account(&api, "acme").await;
    let auth = format!("Bearer {key}");
    let publish = |idempotency: Option<&'static str>| {
        let mut headers = vec![
            ("authorization", auth.clone()),
            ("content-type", "application/json".to_owned()),
        ];
        if let Some(k) = idempotency {
            headers.push(("idempotency-key", k.to_owned()));
        }
        let headers: Vec<(&str, String)> = headers;
        let body = json!({"type": "order.received", "payload": {"order": 7}})
            .to_string()
            .into_bytes();
        let api = &api;
        async move {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(api, request("POST", "/api/v1/events", &refs, Some(body))).await
        }
    };
    let first = publish(Some("order-7")).await;
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(first.body["type"], "order.received");
    let again = publish(Some("order-7")).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = publish(None).await;
    assert_ne!(other.body["id"], first.body["id"]);
    // Issue 18's D6: the key again with another body is refused, not answered with the first.
    let reused = send(
        &api,
        request(
            "POST",
            "/api/v1/events",
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
                ("idempotency-key", "order-7"),
            ],
            Some(
                json!({"type": "order.received", "payload": {"order": 8}})
                    .to_string()
                    .into_bytes(),
            ),
        ),
    )
    .await;
    assert_problem(&reused, 422);
    assert_eq!(reused.body["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(api.store.events().len(), 2, "the replay created nothing");

    let id = first.body["id"].as_str().unwrap();
    let fetched = call(&api, "GET", &format!("/api/v1/events/{id}"), &key, None).await;
    assert_eq!(fetched.body["data"], json!({"order": 7}));
    assert!(fetched.body["deliveries"].is_array());

    call(&api, "POST", "/api/v1/photos/p/likes", &key, None).await;
    let listed = call(&api, "GET", "/api/v1/events", &key, None).await;
    let types: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["photo.liked", "order.received", "order.received"],
        "newest first"
    );
    let only = call(&api, "GET", "/api/v1/events?type=photo.liked", &key, None).await;
    assert_eq!(only.body["data"].as_array().unwrap().len(), 1);

    for body in [
        json!({"type": "Order.Received", "payload": {}}),
        json!({"type": "webhook.test", "payload": {}}),
        json!({"type": "order.received", "payload": [1]}),
    ] {
        assert_problem(
            &call(&api, "POST", "/api/v1/events", &key, Some(body)).await,
            422,
        );
    }
}

/// An event's deliveries are those its fan-out made: a subscription created after the event
/// shows no delivery of it (it never gets one), one that existed shows `pending` until its
/// first attempt.
#[tokio::test]
async fn an_event_lists_the_deliveries_it_has_not_later_subscriptions() {
    let api = api();
    let key = account(&api, "acme").await;
    let hook = |path: &str| json!({"url": format!("https://hooks.example.com/{path}"), "event_types": ["*"]});
    let before = call(
        &api,
        "POST",
        "/api/v1/subscriptions",
        &key,
        Some(hook("before")),
    )
    .await;
    assert_eq!(before.status, 201, "{}", before.body);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let event = call(
        &api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let after = call(
        &api,
        "POST",
        "/api/v1/subscriptions",
        &key,
        Some(hook("after")),
    )
    .await;
    assert_eq!(after.status, 201, "{}", after.body);
    let id = event.body["id"].as_str().unwrap();
    let shown = call(&api, "GET", &format!("/api/v1/events/{id}"), &key, None).await;
    let deliveries = shown.body["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{}", shown.body);
    assert_eq!(deliveries[0]["subscription_id"], before.body["id"]);
    assert_eq!(deliveries[0]["status"], "pending");
}

/// Issue 15's broadcast test: one `webhook.test` event to every active subscription whatever its
/// event types; the answer says to how many; fan-out sends it to exactly those.
#[tokio::test]
async fn one_call_tests_every_active_subscription() {
    let api = api();
    let key = account(&api, "acme").await;
    let mut active = Vec::new();
    for (path, types, on) in [
        ("users", json!(["user.*"]), true),
        ("orders", json!(["order.received"]), true),
        ("paused", json!(["*"]), false),
    ] {
        let created = call(
            &api,
            "POST",
            "/api/v1/subscriptions",
            &key,
            Some(json!({"url": format!("https://hooks.example.com/{path}"), "event_types": types, "active": on})),
        )
        .await;
        if on {
            active.push(created.body["id"].as_str().unwrap().to_owned());
        }
    }
    let sent = call(&api, "POST", "/api/v1/subscriptions/test", &key, None).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(sent.body["type"], "webhook.test");
    assert_eq!(sent.body["subscriptions"], 2);
    let event = api
        .store
        .events()
        .into_iter()
        .find(|e| e.event_type == "webhook.test")
        .unwrap();
    assert_eq!(event.subscription_id, None);
    assert_eq!(event.data, json!({"message": "This is a test event."}));
    let queue = shared::adapters::memory::MemoryQueue::default();
    let count = shared::delivery::fan_out(&api.store, &queue, &event)
        .await
        .unwrap();
    assert_eq!(count, 2);
    let mut to: Vec<String> = queue
        .sent
        .lock()
        .unwrap()
        .iter()
        .flat_map(|m| m.targets.iter().map(|t| t.subscription_id.to_string()))
        .collect();
    to.sort();
    active.sort();
    assert_eq!(to, active, "the active ones, whatever their types");
    let other = account(&api, "globex").await;
    let none = call(&api, "POST", "/api/v1/subscriptions/test", &other, None).await;
    assert_eq!(none.body["subscriptions"], 0);
}

/// Issue 18's D4: a payload is delivered as written or refused. Numbers within 64-bit integers
/// and double precision come back with every digit; one that would change (past `u64`, or more
/// digits than a double holds) and a key twice in one object are 400s naming where, and store
/// nothing.
#[tokio::test]
async fn payload_numbers_are_kept_exactly_or_refused_and_keys_appear_once() {
    let api = api();
    let key = account(&api, "acme").await;
    let auth = format!("Bearer {key}");
    let post = |text: &str| {
        request(
            "POST",
            "/api/v1/events",
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ],
            Some(format!(r#"{{"type":"order.received","payload":{text}}}"#).into_bytes()),
        )
    };
    let kept = send(
        &api,
        post(r#"{"max":18446744073709551615,"min":-9223372036854775808,"tenth":0.1,"big":1e300,"n":[1.5,-0]}"#),
    )
    .await;
    assert_eq!(kept.status, 202, "{}", kept.body);
    let id = kept.body["id"].as_str().unwrap();
    let fetched = call(&api, "GET", &format!("/api/v1/events/{id}"), &key, None).await;
    let data = &fetched.body["data"];
    assert_eq!(data["max"].as_u64(), Some(u64::MAX));
    assert_eq!(data["min"].as_i64(), Some(i64::MIN));
    assert_eq!(data["tenth"].as_f64(), Some(0.1));
    assert_eq!(data["big"].as_f64(), Some(1e300));
    assert!(data.to_string().contains("18446744073709551615"), "{data}");

    for (payload, said) in [
        (r#"{"n":18446744073709551617}"#, "/payload/n"),
        (
            r#"{"a":[0.1000000000000000055511151231257827]}"#,
            "/payload/a/0",
        ),
        (r#"{"n":-9223372036854775809}"#, "/payload/n"),
        (r#"{"a":1,"b":{"c":1,"c":2}}"#, "/payload/b/c"),
        (r#"{"a":1,"a":1}"#, "/payload/a"),
    ] {
        let refused = send(&api, post(payload)).await;
        assert_problem(&refused, 400);
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains(said), "{payload}: {detail}");
    }
    assert_eq!(api.store.events().len(), 1, "nothing refused was stored");
}
