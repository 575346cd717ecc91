//! Intent verification through the API (issue 15, item 4): a pending subscription gets only its
//! verification, cannot be switched on by hand, and can be asked again.

use crate::common::api::{account, api, call};
use serde_json::json;
use shared::adapters::memory::MemoryQueue;
use shared::model::Event;

fn verification_events(events: &[Event]) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.event_type == "webhook.verification")
        .collect()
}

#[tokio::test]
async fn a_pending_subscription_gets_its_verification_only() {
    let api = api();
    let key = account(&api, "acme").await;
    let created = call(
        &api,
        "POST",
        "/api/v1/subscriptions",
        &key,
        Some(json!({"url": "https://hooks.example.com/in", "event_types": ["*"], "verify": true})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["status"], "pending_verification");
    assert_eq!(created.body["active"], false);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let events = api.store.events();
    let asked = verification_events(&events);
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].subscription_id.map(|s| s.to_string()),
        Some(id.clone())
    );
    assert_eq!(asked[0].data["subscription_id"], id.as_str());
    let first_challenge = asked[0].data["challenge"].as_str().unwrap().to_owned();
    assert!(first_challenge.len() > 40, "{first_challenge}");
    assert!(
        !created.body.to_string().contains(&first_challenge),
        "never shown"
    );

    // Fan-out: the verification goes to it; nothing else does while it waits.
    let queue = MemoryQueue::default();
    assert_eq!(
        shared::delivery::fan_out(&api.store, &queue, asked[0])
            .await
            .unwrap(),
        1
    );
    call(
        &api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let order = api
        .store
        .events()
        .into_iter()
        .find(|e| e.event_type == "order.received")
        .unwrap();
    assert_eq!(
        shared::delivery::fan_out(&api.store, &queue, &order)
            .await
            .unwrap(),
        0
    );
    let broadcast = call(&api, "POST", "/api/v1/subscriptions/test", &key, None).await;
    assert_eq!(broadcast.body["subscriptions"], 0);

    let path = format!("/api/v1/subscriptions/{id}");
    let by_hand = call(&api, "PATCH", &path, &key, Some(json!({"active": true}))).await;
    assert_eq!(by_hand.status, 409, "{}", by_hand.body);

    let again = call(&api, "POST", &format!("{path}/verify"), &key, None).await;
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.body["status"], "pending_verification");
    let events = api.store.events();
    let asked = verification_events(&events);
    assert_eq!(asked.len(), 2);
    let second = asked
        .iter()
        .find(|e| e.id.to_string() == again.body["event_id"])
        .unwrap();
    assert_ne!(
        second.data["challenge"],
        first_challenge.as_str(),
        "a new challenge"
    );
    let older = asked
        .iter()
        .find(|e| e.id.to_string() != again.body["event_id"])
        .unwrap();
    assert_eq!(
        shared::delivery::fan_out(&api.store, &queue, older)
            .await
            .unwrap(),
        0,
        "the old challenge's request is not sent any more"
    );

    let off = call(&api, "PATCH", &path, &key, Some(json!({"active": false}))).await;
    assert_eq!(off.body["status"], "disabled");
    let on = call(&api, "PATCH", &path, &key, Some(json!({"active": true}))).await;
    assert_eq!(
        on.status, 200,
        "switched off by hand, the verification is over: {}",
        on.body
    );
    assert_eq!(on.body["status"], "active");
    let unknown = call(
        &api,
        "POST",
        "/api/v1/subscriptions/sub_01KSAMP1E00000000000000009/verify",
        &key,
        None,
    )
    .await;
    assert_eq!(unknown.status, 404);
}
