//! What the API shows of deliveries: statuses, the attempt log and resends; the delivery context as
//! written.

use crate::common::api::{account, call};
use crate::common::{eventually, fresh_stack};
use crate::support::*;
use serde_json::json;
use shared::adapters::dynamodb::DynamoStore;
use shared::model::delivery::DeliveryState;
use shared::ports::delivery::DeliveryStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_shows_deliveries_and_attempts_and_resends() {
    let world = world("e2e-api").await;
    let key = account(&world.api, "acme").await;
    let (subscription, secret) = subscribe(&world, &key, "/shown", json!(["order.*"]), true).await;
    world.receiver.script("/shown", &[500]);
    let event = call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let event_id = event.body["id"].as_str().unwrap().to_owned();
    let shown = eventually("delivered, as the API shows it", WAIT, || async {
        let reply = call(
            &world.api,
            "GET",
            &format!("/api/v1/events/{event_id}"),
            &key,
            None,
        )
        .await;
        (reply.body["deliveries"][0]["status"] == "delivered").then_some(reply.body)
    })
    .await;
    assert_eq!(shown["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(
        shown["deliveries"][0]["subscription_id"],
        subscription.as_str()
    );
    assert_eq!(shown["deliveries"][0]["attempts"], 2);
    let attempts = call(
        &world.api,
        "GET",
        &format!("/api/v1/subscriptions/{subscription}/attempts?limit=1"),
        &key,
        None,
    )
    .await;
    assert_eq!(attempts.status, 200, "{}", attempts.body);
    assert_eq!(attempts.body["data"][0]["attempt"], 2, "newest first");
    assert_eq!(attempts.body["data"][0]["status_code"], 200);
    let cursor = attempts.body["next_cursor"].as_str().unwrap();
    let older = call(
        &world.api,
        "GET",
        &format!("/api/v1/subscriptions/{subscription}/attempts?limit=1&cursor={cursor}"),
        &key,
        None,
    )
    .await;
    assert_eq!(older.body["data"][0]["attempt"], 1);
    assert_eq!(older.body["data"][0]["status_code"], 500);
    assert_eq!(older.body["data"][0]["response_body"], "ok");

    let resent = call(
        &world.api,
        "POST",
        &format!("/api/v1/events/{event_id}/resend"),
        &key,
        None,
    )
    .await;
    assert_eq!(resent.status, 202, "{}", resent.body);
    assert_eq!(resent.body["queued"], json!([subscription]));
    eventually("the resent delivery", WAIT, || async {
        (world.receiver.received("/shown").len() == 3).then_some(())
    })
    .await;
    let last = world.receiver.received("/shown").pop().unwrap();
    assert_eq!(last.headers["webhook-id"], event_id);
    verify(&last, &secret);

    let stranger = account(&world.api, "stranger").await;
    for path in [
        format!("/api/v1/subscriptions/{subscription}/attempts"),
        format!("/api/v1/events/{event_id}"),
    ] {
        assert_eq!(
            call(&world.api, "GET", &path, &stranger, None).await.status,
            404
        );
    }
    assert_eq!(
        call(
            &world.api,
            "POST",
            &format!("/api/v1/events/{event_id}/resend"),
            &stranger,
            None
        )
        .await
        .status,
        404
    );
}

/// What `deliver` reads before sending, on DynamoDB: subscriptions with their failing marks,
/// and events with their deliveries' statuses, each missing until written, in the order asked
/// (a key asked twice answered twice); and a recorded attempt is both the delivery's status and
/// its attempt log entry.
#[tokio::test]
async fn the_delivery_context_reads_what_was_written() {
    use shared::model::delivery::{Attempt, DeliveryStatus};
    use shared::model::{Event, Subscription, now};
    use shared::ports::delivery::Recorded;
    use shared::ports::{EventStore, SubscriptionStore};

    let (clients, stack) = fresh_stack("delivery-context", &[]).await;
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        stack.table("DataTable").unwrap().name.clone(),
        stack.table("EventsTable").unwrap().name.clone(),
    );
    let subscriptions = |accounts: Vec<shared::model::AccountId>| {
        let store = store.clone();
        async move {
            let ids: Vec<_> = accounts.into_iter().map(|a| (a, SUB_CTX)).collect();
            store.delivery_subscriptions(&ids).await.unwrap()
        }
    };
    let events = |accounts: Vec<shared::model::AccountId>| {
        let store = store.clone();
        async move {
            let ids: Vec<_> = accounts.into_iter().map(|a| (a, EVT_CTX)).collect();
            store.event_deliveries(&ids).await.unwrap()
        }
    };
    let empty = subscriptions(vec![ACC_CTX]).await.remove(0);
    assert!(empty.subscription.is_none() && !empty.failing);
    let empty = events(vec![ACC_CTX]).await.remove(0);
    assert!(empty.event.is_none() && empty.statuses.is_empty());

    let subscription = Subscription {
        id: SUB_CTX,
        account_id: ACC_CTX,
        url: "http://127.0.0.1:9/in".into(),
        event_types: vec!["*".into()],
        description: None,
        active: true,
        secrets: Vec::new(),
        disabled_reason: None,
        verification: None,
        headers: std::collections::BTreeMap::new(),
        created_at: now(),
        updated_at: now(),
    };
    store.create_subscription(&subscription).await.unwrap();
    let event = Event {
        id: EVT_CTX,
        account_id: ACC_CTX,
        event_type: "order.received".into(),
        created_at: now(),
        data: json!({"n": 1}),
        subscription_id: None,
    };
    store.publish(&event, None).await.unwrap();
    store
        .mark_failing(
            &ACC_CTX,
            &SUB_CTX,
            &now(),
            std::time::Duration::from_secs(3600),
        )
        .await
        .unwrap();
    let attempt = Attempt {
        delivery_id: shared::model::delivery::delivery_id(EVT_CTX, SUB_CTX),
        event_id: EVT_CTX,
        subscription_id: SUB_CTX,
        attempt: 1,
        attempted_at: now(),
        status_code: Some(200),
        error: None,
        duration_ms: 3,
        response_body: Some("ok".into()),
        outcome: DeliveryState::Delivered,
        next_attempt_at: None,
    };
    let status = DeliveryStatus {
        delivery_id: attempt.delivery_id.clone(),
        event_id: EVT_CTX,
        subscription_id: SUB_CTX,
        status: DeliveryState::Delivered,
        attempts: 1,
        updated_at: now(),
        next_attempt_at: None,
    };
    store
        .record_deliveries(&[Recorded {
            account_id: ACC_CTX,
            attempt: Some(attempt.clone()),
            status: status.clone(),
        }])
        .await
        .unwrap();

    let read = subscriptions(vec![ACC_OTHER, ACC_CTX, ACC_CTX]).await;
    assert_eq!(read.len(), 3);
    assert!(read[0].subscription.is_none());
    assert_eq!(read[1], read[2]);
    assert_eq!(read[2].subscription, Some(subscription));
    assert!(read[2].failing);
    let read = events(vec![ACC_OTHER, ACC_CTX, ACC_CTX]).await;
    assert_eq!(read.len(), 3);
    assert!(read[0].event.is_none() && read[0].statuses.is_empty());
    assert_eq!(read[2].event, Some(event));
    assert_eq!(read[2].statuses, vec![status]);
    let attempts = store
        .attempts_of_subscription(&ACC_CTX, &SUB_CTX, 10, None)
        .await
        .unwrap();
    assert_eq!(attempts.items, vec![attempt]);

    store.mark_healthy(&ACC_CTX, &SUB_CTX).await.unwrap();
    assert!(!subscriptions(vec![ACC_CTX]).await[0].failing);
}

/// A published type reaches the catalog through the stream and `fanout` on the local stack.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_published_type_reaches_the_catalog_through_fanout() {
    let world = world("e2e-catalog").await;
    let key = account(&world.api, "acme").await;
    let published = call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "invoice.paid", "payload": {"total": 12}})),
    )
    .await;
    assert_eq!(published.status, 202, "{}", published.body);
    let entry = eventually("invoice.paid in the catalog", WAIT, || async {
        let listed = call(&world.api, "GET", "/api/v1/event-types", &key, None).await;
        listed.body["data"]
            .as_array()?
            .iter()
            .find(|t| t["type"] == "invoice.paid")
            .cloned()
    })
    .await;
    assert_eq!(entry["builtin"], false);
    assert_eq!(entry["first_seen"], published.body["created_at"]);
    assert_eq!(entry["last_seen"], published.body["created_at"]);
}

/// A replay delivers each event of its window once more, through the stream and `fanout`, and
/// the same window asked again delivers nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_delivers_its_window_once_more() {
    let world = world("e2e-replay").await;
    let key = account(&world.api, "acme").await;
    let (subscription, secret) =
        subscribe(&world, &key, "/replayed", json!(["order.*"]), true).await;
    let since = shared::model::now().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let sent = call(
            &world.api,
            "POST",
            "/api/v1/events",
            &key,
            Some(json!({"type": "order.received", "payload": {"n": n}})),
        )
        .await;
        ids.push(sent.body["id"].as_str().unwrap().to_owned());
    }
    eventually("the first deliveries", WAIT, || async {
        (world.receiver.received("/replayed").len() == 3).then_some(())
    })
    .await;
    let path = format!("/api/v1/subscriptions/{subscription}/replay");
    let replay = call(
        &world.api,
        "POST",
        &path,
        &key,
        Some(json!({"since": since})),
    )
    .await;
    assert_eq!(replay.status, 202, "{}", replay.body);
    assert_eq!(replay.body["events"], 3);
    eventually("each event once more", WAIT, || async {
        (world.receiver.received("/replayed").len() == 6).then_some(())
    })
    .await;
    let again = call(
        &world.api,
        "POST",
        &path,
        &key,
        Some(json!({"since": since})),
    )
    .await;
    assert_eq!(again.body["repeated"], true, "{}", again.body);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let received = world.receiver.received("/replayed");
    assert_eq!(received.len(), 6, "the repeated replay queued nothing");
    for id in &ids {
        let copies = received
            .iter()
            .filter(|r| body(r)["id"] == id.as_str())
            .count();
        assert_eq!(copies, 2, "{id}");
    }
    received.iter().for_each(|r| verify(r, &secret));
}
