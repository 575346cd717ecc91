//! The transactional outbox on DynamoDB Local: every change writes exactly one event item in the
//! same transaction, a failed change writes none, and accounts never see each other's data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::api::{FixedDns, account, call, id_routes, with_store};
use common::fresh_stack;
use devstack::provision::{Clients, Stack};
use serde_json::{Value, json};
use shared::adapters::dynamodb::{DynamoStore, event_from_item};
use shared::api::Api;
use shared::model::Event;

async fn dynamo_api(
    test: &str,
) -> (
    Clients,
    Stack,
    Api<DynamoStore, FixedDns, shared::adapters::sqs::SqsQueue>,
) {
    let (clients, stack) = fresh_stack(test, &[]).await;
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        stack.table("DataTable").unwrap().name.clone(),
        stack.table("EventsTable").unwrap().name.clone(),
    );
    let queue = shared::adapters::sqs::SqsQueue::new(
        clients.sqs.clone(),
        stack.queue("DeliveryQueue").unwrap().url.clone(),
    );
    (clients, stack, with_store(store, queue))
}

/// Every event item of an account, oldest first, read straight from the events table.
async fn events_of(clients: &Clients, stack: &Stack, account: &str) -> Vec<Event> {
    let output = clients
        .dynamodb
        .query()
        .table_name(&stack.table("EventsTable").unwrap().name)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("ACC#{account}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    output
        .items
        .unwrap_or_default()
        .into_iter()
        .map(|item| {
            assert_eq!(
                item["entity"].as_s().unwrap(),
                "event",
                "the stream filter keys on entity = event"
            );
            event_from_item(item).unwrap()
        })
        .collect()
}

async fn account_id(
    api: &Api<DynamoStore, FixedDns, shared::adapters::sqs::SqsQueue>,
    key: &str,
) -> String {
    match api
        .authenticate(Some(&format!("Bearer {key}")))
        .await
        .unwrap()
    {
        shared::api::Caller::Account(id) => id,
        shared::api::Caller::Admin => panic!("admin"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_change_writes_exactly_one_event_and_failures_write_none() {
    let (clients, stack, api) = dynamo_api("outbox-users").await;
    let key = account(&api, "acme").await;
    let acc = account_id(&api, &key).await;
    let created = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let events = events_of(&clients, &stack, &acc).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "user.created");
    assert_eq!(events[0].data, created.body);

    // Failures write nothing: a taken username, a change to a missing user, bad input.
    assert_eq!(
        call(
            &api,
            "POST",
            "/api/v1/users",
            &key,
            Some(json!({"username": "Adam12", "password": "abc123"}))
        )
        .await
        .status,
        409
    );
    assert_eq!(
        call(
            &api,
            "PUT",
            "/api/v1/users/usr_missing",
            &key,
            Some(json!({"password": "abcdef"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        call(
            &api,
            "POST",
            "/api/v1/users",
            &key,
            Some(json!({"username": "x", "password": "abc123"}))
        )
        .await
        .status,
        422
    );
    assert_eq!(events_of(&clients, &stack, &acc).await.len(), 1);

    let second = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "eve99", "password": "abc123"})),
    )
    .await;
    assert_eq!(second.status, 201);
    let taken = call(
        &api,
        "PUT",
        &format!("/api/v1/users/{id}"),
        &key,
        Some(json!({"username": "EVE99"})),
    )
    .await;
    assert_eq!(
        taken.status, 409,
        "renaming onto a taken name fails as a whole"
    );
    assert_eq!(events_of(&clients, &stack, &acc).await.len(), 2);

    let updated = call(
        &api,
        "PUT",
        &format!("/api/v1/users/{id}"),
        &key,
        Some(json!({"username": "adam13"})),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let reuse = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    assert_eq!(
        reuse.status, 201,
        "the old name was released in the same transaction"
    );
    assert_eq!(
        call(&api, "DELETE", &format!("/api/v1/users/{id}"), &key, None)
            .await
            .status,
        204
    );
    assert_eq!(
        call(&api, "DELETE", &format!("/api/v1/users/{id}"), &key, None)
            .await
            .status,
        404
    );

    let types: Vec<String> = events_of(&clients, &stack, &acc)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "user.created",
            "user.created",
            "user.updated",
            "user.created",
            "user.deleted"
        ]
    );
    let deleted = events_of(&clients, &stack, &acc).await.pop().unwrap();
    assert_eq!(deleted.data["username"], "adam13");

    let page = call(&api, "GET", "/api/v1/users?limit=1", &key, None).await;
    assert_eq!(page.body["data"].as_array().unwrap().len(), 1);
    let next = page.body["next_cursor"].as_str().unwrap();
    let rest = call(
        &api,
        "GET",
        &format!("/api/v1/users?limit=1&cursor={next}"),
        &key,
        None,
    )
    .await;
    assert_eq!(rest.status, 200);
    assert_ne!(rest.body["data"][0]["id"], page.body["data"][0]["id"]);
    assert!(rest.body["next_cursor"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_likes_each_get_their_own_count_and_event() {
    let (clients, stack, api) = dynamo_api("outbox-likes").await;
    let key = account(&api, "acme").await;
    let acc = account_id(&api, &key).await;
    let api = std::sync::Arc::new(api);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (api, key) = (std::sync::Arc::clone(&api), key.clone());
        tasks.push(tokio::spawn(async move {
            call(&api, "POST", "/api/v1/photos/p1/likes", &key, None).await
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 202, "{}", reply.body);
        counts.push(reply.body["likes"].as_u64().unwrap());
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=10).collect::<Vec<u64>>(),
        "every like saw its own count"
    );
    assert_eq!(
        call(&api, "GET", "/api/v1/photos/p1", &key, None)
            .await
            .body,
        json!({"photo_id": "p1", "likes": 10})
    );
    let mut liked: Vec<u64> = events_of(&clients, &stack, &acc)
        .await
        .iter()
        .map(|e| e.data["likes"].as_u64().unwrap())
        .collect();
    liked.sort_unstable();
    assert_eq!(
        liked,
        (1..=10).collect::<Vec<u64>>(),
        "one photo.liked per like, with the count it made"
    );
}

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
