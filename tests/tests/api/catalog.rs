//! The event-type catalog (issue 15, item 5).

use crate::common::api::{account, api, call};
use serde_json::{Value, json};
use shared::delivery::TypeSightings;

/// Every built-in type comes with a description, a standalone JSON Schema of its `data` and an
/// example that schema accepts; an event the API really emitted is valid against it too.
#[tokio::test]
async fn built_in_types_come_with_a_schema_their_events_satisfy() {
    let api = api();
    let key = account(&api, "acme").await;
    let listed = call(&api, "GET", "/api/v1/event-types", &key, None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let data = listed.body["data"].as_array().unwrap().clone();
    let names: Vec<&str> = data.iter().map(|t| t["type"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "user.created",
            "user.updated",
            "user.deleted",
            "photo.liked",
            "order.received",
            "webhook.test",
            "webhook.verification",
            "subscription.disabled"
        ]
    );
    for entry in &data {
        assert_eq!(entry["builtin"], true);
        assert!(!entry["description"].as_str().unwrap().is_empty());
        let validator = jsonschema::validator_for(&entry["schema"])
            .unwrap_or_else(|e| panic!("{}: not a JSON Schema: {e}", entry["type"]));
        assert!(
            validator.is_valid(&entry["example"]),
            "{}: the example breaks the schema",
            entry["type"]
        );
        assert!(
            !validator.is_valid(&json!({})),
            "{}: an empty object passes",
            entry["type"]
        );
    }
    let schema_of = |name: &str| {
        let entry = data.iter().find(|t| t["type"] == name).unwrap();
        jsonschema::validator_for(&entry["schema"]).unwrap()
    };

    // Real events, as the API emitted them.
    call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "ada", "password": "s3cret-pw"})),
    )
    .await;
    call(&api, "POST", "/api/v1/photos/p1/likes", &key, None).await;
    call(&api, "POST", "/api/v1/subscriptions/test", &key, None).await;
    let events = api.store.events();
    for event in &events {
        let validator = schema_of(&event.event_type);
        assert!(
            validator.is_valid(&event.data),
            "{}: {}",
            event.event_type,
            event.data
        );
    }
    assert_eq!(events.len(), 3);
    let bad_user = json!({"id": "usr_x", "username": "ada", "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"});
    assert!(
        !schema_of("user.created").is_valid(&bad_user),
        "an id of the wrong shape"
    );
}

/// The types the account published follow the built-in ones, with first and last seen, paged by
/// name; another account's types and built-in types seen as events are not listed among them.
#[tokio::test]
async fn published_types_are_listed_with_first_and_last_seen() {
    let api = api();
    let (key, other) = (account(&api, "acme").await, account(&api, "globex").await);
    for (who, event_type) in [
        (&key, "order.placed"),
        (&key, "invoice.paid"),
        (&key, "order.placed"),
        (&other, "secret.thing"),
    ] {
        let sent = call(
            &api,
            "POST",
            "/api/v1/events",
            who,
            Some(json!({"type": event_type, "payload": {"n": 1}})),
        )
        .await;
        assert_eq!(sent.status, 202, "{}", sent.body);
    }
    call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "ada", "password": "s3cret-pw"})),
    )
    .await;
    // What fanout does with each stream batch.
    let events = api.store.events();
    assert_eq!(
        TypeSightings::default().note(&api.store, &events).await,
        3,
        "not user.created"
    );

    let first = call(&api, "GET", "/api/v1/event-types?limit=1", &key, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let custom = |page: &Value| -> Vec<Value> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["builtin"] == false)
            .cloned()
            .collect()
    };
    let on_first = custom(&first.body);
    assert_eq!(on_first.len(), 1);
    assert_eq!(on_first[0]["type"], "invoice.paid");
    assert_eq!(on_first[0]["schema"], Value::Null);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = call(
        &api,
        "GET",
        &format!("/api/v1/event-types?limit=1&cursor={cursor}"),
        &key,
        None,
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let on_second = custom(&second.body);
    assert_eq!(
        second.body["data"].as_array().unwrap().len(),
        1,
        "built-in types on the first page only"
    );
    assert_eq!(on_second[0]["type"], "order.placed");
    let orders: Vec<&shared::model::Event> = events
        .iter()
        .filter(|e| e.event_type == "order.placed")
        .collect();
    assert_eq!(on_second[0]["first_seen"], json!(orders[0].created_at));
    assert_eq!(on_second[0]["last_seen"], json!(orders[1].created_at));
    assert_eq!(
        second.body["next_cursor"],
        Value::Null,
        "user.created is built in, not listed again"
    );

    let theirs = call(&api, "GET", "/api/v1/event-types", &other, None).await;
    let theirs: Vec<Value> = custom(&theirs.body)
        .iter()
        .map(|t| t["type"].clone())
        .collect();
    assert_eq!(theirs, [json!("secret.thing")]);

    let forged = call(
        &api,
        "GET",
        "/api/v1/event-types?cursor=VVNFUiN4",
        &key,
        None,
    )
    .await;
    assert_eq!(forged.status, 400, "{}", forged.body);
}
