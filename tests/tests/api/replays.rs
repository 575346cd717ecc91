//! Replays (issue 15, item 6): what a window holds for a subscription, queued once.

use crate::common::api::{account, api, call};
use serde_json::{Value, json};
use shared::model::{Event, EventId, now};
use shared::ports::EventStore;

async fn subscription(api: &crate::common::api::TestApi, key: &str, types: Value) -> String {
    let created = call(
        api,
        "POST",
        "/api/v1/subscriptions",
        key,
        Some(json!({"url": "https://hooks.example.com/in", "event_types": types})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_replay_queues_what_the_window_holds_for_the_subscription_once() {
    let api = api();
    let key = account(&api, "acme").await;
    let orders = subscription(&api, &key, json!(["order.*"])).await;
    let users = subscription(&api, &key, json!(["user.*"])).await;
    let before = now();
    // The window is inclusive to the millisecond: its events come after this one.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let publish = |event_type: &'static str| {
        let api = &api;
        let key = &key;
        async move {
            let sent = call(
                api,
                "POST",
                "/api/v1/events",
                key,
                Some(json!({"type": event_type, "payload": {}})),
            )
            .await;
            assert_eq!(sent.status, 202, "{}", sent.body);
            sent.body["id"].as_str().unwrap().to_owned()
        }
    };
    let mut expected = vec![
        publish("order.received").await,
        publish("order.shipped").await,
    ];
    publish("invoice.paid").await;
    call(
        &api,
        "POST",
        &format!("/api/v1/subscriptions/{users}/test"),
        &key,
        None,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let broadcast = call(&api, "POST", "/api/v1/subscriptions/test", &key, None).await;
    expected.push(broadcast.body["id"].as_str().unwrap().to_owned());
    expected.push(publish("order.received").await);
    let other = account(&api, "globex").await;
    call(
        &api,
        "POST",
        "/api/v1/events",
        &other,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;

    let path = format!("/api/v1/subscriptions/{orders}/replay");
    let since = before.to_string();
    let replayed = call(&api, "POST", &path, &key, Some(json!({"since": since}))).await;
    assert_eq!(replayed.status, 202, "{}", replayed.body);
    assert_eq!(
        replayed.body["events"], 4,
        "its orders and the broadcast test, not the rest"
    );
    assert_eq!(replayed.body["repeated"], false);
    assert_eq!(replayed.body["subscription_id"], orders.as_str());
    let parts = api.store.replay_parts();
    assert_eq!(parts.len(), 1);
    let ids: Vec<String> = parts[0].event_ids.iter().map(ToString::to_string).collect();
    assert_eq!(ids, expected, "oldest first");
    assert_eq!(parts[0].subscription_id.to_string(), orders);

    let again = call(&api, "POST", &path, &key, Some(json!({"since": since}))).await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.body["repeated"], true);
    assert_eq!(again.body["id"], replayed.body["id"]);
    assert_eq!(again.body["events"], 4);
    assert_eq!(api.store.replay_parts().len(), 1, "nothing queued twice");

    let until = api
        .store
        .events()
        .iter()
        .find(|e| e.id.to_string() == expected[1])
        .unwrap()
        .created_at;
    let earlier = call(
        &api,
        "POST",
        &path,
        &key,
        Some(json!({"since": since, "until": until.to_string()})),
    )
    .await;
    assert_eq!(earlier.status, 202, "{}", earlier.body);
    assert_eq!(
        earlier.body["events"], 2,
        "the window ends at the second order"
    );
    assert_ne!(earlier.body["id"], replayed.body["id"]);
}

#[tokio::test]
async fn a_replay_is_refused_a_bad_window_or_subscription() {
    let api = api();
    let key = account(&api, "acme").await;
    let orders = subscription(&api, &key, json!(["order.*"])).await;
    let path = format!("/api/v1/subscriptions/{orders}/replay");
    for (body, status, field) in [
        (json!({"since": "yesterday"}), 422, "since"),
        (
            json!({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
            422,
            "until",
        ),
        (json!({"since": "2999-01-01T00:00:00Z"}), 422, "until"),
        (
            json!({"since": "2026-01-01T00:00:00Z", "until": 5}),
            400,
            "",
        ),
        (
            json!({"since": "2026-01-01T00:00:00Z", "all": true}),
            400,
            "",
        ),
        (json!({}), 400, ""),
    ] {
        let reply = call(&api, "POST", &path, &key, Some(body.clone())).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
        if !field.is_empty() {
            assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.body);
        }
    }
    let since = json!({"since": "2026-01-01T00:00:00Z"});
    let unknown = "/api/v1/subscriptions/sub_01KSAMP1E00000000000000009/replay";
    assert_eq!(
        call(&api, "POST", unknown, &key, Some(since.clone()))
            .await
            .status,
        404
    );
    let globex = account(&api, "globex").await;
    assert_eq!(
        call(&api, "POST", &path, &globex, Some(since.clone()))
            .await
            .status,
        404
    );
    call(
        &api,
        "PATCH",
        &format!("/api/v1/subscriptions/{orders}"),
        &key,
        Some(json!({"active": false})),
    )
    .await;
    let paused = call(&api, "POST", &path, &key, Some(since)).await;
    assert_eq!(paused.status, 409, "{}", paused.body);
    assert!(api.store.replay_parts().is_empty());
}

#[tokio::test]
async fn a_window_of_more_than_ten_thousand_events_must_be_narrowed() {
    let api = api();
    let key = account(&api, "acme").await;
    let orders = subscription(&api, &key, json!(["order.*"])).await;
    call(
        &api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let account_id = api.store.events()[0].account_id;
    // Past the first event's millisecond: the window is inclusive to the millisecond.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = now();
    for _ in 0..shared::api::MAX_REPLAY_EVENTS {
        let event = Event {
            id: EventId::new(),
            account_id,
            event_type: "order.received".into(),
            created_at: now(),
            data: json!({}),
            subscription_id: None,
        };
        api.store.publish(&event, None).await.unwrap();
    }
    let path = format!("/api/v1/subscriptions/{orders}/replay");
    let all = call(
        &api,
        "POST",
        &path,
        &key,
        Some(json!({"since": "2026-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(all.status, 422, "{}", all.body);
    assert!(
        all.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("10000"),
        "{}",
        all.body
    );
    let narrowed = call(
        &api,
        "POST",
        &path,
        &key,
        Some(json!({"since": since.to_string()})),
    )
    .await;
    assert_eq!(narrowed.status, 202, "{}", narrowed.body);
    assert_eq!(narrowed.body["events"], 10_000);
    let parts = api.store.replay_parts();
    assert_eq!(parts.len(), 20, "500 events to a part");
    assert!(parts.iter().all(|p| p.event_ids.len() == 500));
}
