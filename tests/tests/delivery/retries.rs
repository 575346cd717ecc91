//! Failing receivers: retried with the same id and fresh signatures, timed out, dead-lettered after
//! the last attempt, deactivated on 410.

use crate::common;
use crate::common::api::{account, call};
use crate::common::eventually;
use crate::support::*;
use serde_json::json;
use shared::model::delivery::DeliveryState;
use shared::ports::delivery::DeliveryStore;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_receiver_is_retried_with_the_same_id_and_fresh_signatures() {
    let world = world("e2e-retry").await;
    let key = account(&world.api, "acme").await;
    let (subscription, secret) = subscribe(&world, &key, "/flaky", json!(["order.*"]), true).await;
    world.receiver.script("/flaky", &[500, 500, 200]);
    let event = call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let event_id = event.body["id"].as_str().unwrap().to_owned();

    let acc = match world
        .api
        .authenticate(Some(&format!("Bearer {key}")))
        .await
        .unwrap()
    {
        shared::api::Caller::Account(id) => id,
        shared::api::Caller::Admin => unreachable!(),
    };
    eventually("delivered on the third attempt", WAIT, || async {
        let status = status_of(&world.store, &acc, &event_id, &subscription).await;
        status.filter(|s| s.status == DeliveryState::Delivered)
    })
    .await;
    let received = world.receiver.received("/flaky");
    assert_eq!(received.len(), 3);
    for r in &received {
        assert_eq!(
            r.headers["webhook-id"], event_id,
            "the same webhook-id on every attempt"
        );
        verify(r, &secret);
    }
    let timestamps: Vec<&String> = received
        .iter()
        .map(|r| &r.headers["webhook-timestamp"])
        .collect();
    assert!(
        timestamps.windows(2).all(|w| w[0] < w[1]),
        "a fresh timestamp each attempt: {timestamps:?}"
    );
    let signatures: Vec<&String> = received
        .iter()
        .map(|r| &r.headers["webhook-signature"])
        .collect();
    assert!(signatures[0] != signatures[1] && signatures[1] != signatures[2]);
    let attempts = world
        .store
        .attempts_of_subscription(&acc, &id(&subscription), 10, None)
        .await
        .unwrap()
        .items;
    let log: Vec<(u32, Option<u16>, DeliveryState)> = attempts
        .iter()
        .map(|a| (a.attempt, a.status_code, a.outcome))
        .collect();
    assert_eq!(
        log,
        [
            (3, Some(200), DeliveryState::Delivered),
            (2, Some(500), DeliveryState::Retrying),
            (1, Some(500), DeliveryState::Retrying)
        ],
        "the attempt log, newest first"
    );
    assert!(attempts[1].next_attempt_at.is_some() && attempts[0].next_attempt_at.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_always_fails_sends_the_message_to_the_dlq_after_the_last_attempt() {
    let world = world("e2e-dlq").await;
    let key = account(&world.api, "acme").await;
    subscribe(&world, &key, "/down", json!(["*"]), true).await;
    world.receiver.always("/down", 503);
    call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let dlq = world
        .stack
        .queue("DeliveryDeadLetterQueue")
        .unwrap()
        .url
        .clone();
    let dead = eventually("the delivery in the DLQ", WAIT, || async {
        let received = world
            .clients
            .sqs
            .receive_message()
            .queue_url(&dlq)
            .send()
            .await
            .unwrap();
        received.messages.unwrap_or_default().into_iter().next()
    })
    .await;
    let message: shared::model::delivery::DeliveryMessage =
        serde_json::from_str(dead.body().unwrap()).unwrap();
    assert_eq!(
        world.receiver.received("/down").len(),
        3,
        "exactly the configured attempts"
    );
    let status = status_of(
        &world.store,
        &message.account_id,
        &message.event_id,
        &message.targets[0].subscription_id,
    )
    .await
    .unwrap();
    assert_eq!(status.status, DeliveryState::Failed);
    assert_eq!(status.attempts, 3);

    // The receiver recovers; an admin redrives the dead letters; the delivery goes through.
    // (This test peeked at the dead letter: make it visible again first.)
    world
        .clients
        .sqs
        .change_message_visibility()
        .queue_url(&dlq)
        .receipt_handle(dead.receipt_handle().unwrap())
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    world.receiver.always("/down", 200);
    let redrive = call(
        &world.api,
        "POST",
        "/api/v1/admin/dlq/redrive",
        common::api::ADMIN_KEY,
        None,
    )
    .await;
    assert_eq!(redrive.status, 202, "{}", redrive.body);
    assert_eq!(
        redrive.body,
        json!({"method": "copy", "messages": 1}),
        "the emulator has no StartMessageMoveTask"
    );
    assert_eq!(
        call(&world.api, "POST", "/api/v1/admin/dlq/redrive", &key, None)
            .await
            .status,
        401
    );
    eventually("delivered after the redrive", WAIT, || async {
        let status = status_of(
            &world.store,
            &message.account_id,
            &message.event_id,
            &message.targets[0].subscription_id,
        )
        .await;
        status.filter(|s| s.status == DeliveryState::Delivered)
    })
    .await;
    assert_eq!(world.receiver.received("/down").len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gone_deactivates_the_subscription() {
    let world = world("e2e-gone").await;
    let key = account(&world.api, "acme").await;
    let (subscription, _) = subscribe(&world, &key, "/gone", json!(["*"]), true).await;
    let (_, ops_secret) =
        subscribe(&world, &key, "/ops", json!(["subscription.disabled"]), true).await;
    world.receiver.always("/gone", 410);
    call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let fetched = eventually("deactivated", WAIT, || async {
        let reply = call(
            &world.api,
            "GET",
            &format!("/api/v1/subscriptions/{subscription}"),
            &key,
            None,
        )
        .await;
        (reply.body["active"] == false).then_some(reply.body)
    })
    .await;
    assert!(fetched["disabled_reason"].as_str().unwrap().contains("410"));
    // Issue 15, item 7: the account's subscriptions to subscription.disabled hear of it.
    let told = eventually("the operational event", WAIT, || async {
        world.receiver.received("/ops").first().cloned()
    })
    .await;
    verify(&told, &ops_secret);
    let told = body(&told);
    assert_eq!(told["type"], "subscription.disabled");
    assert_eq!(told["data"]["subscription_id"], subscription.as_str());
    assert_eq!(told["data"]["url"], world.receiver.url("/gone"));
    assert_eq!(told["data"]["reason"], fetched["disabled_reason"]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        world.receiver.received("/gone").len(),
        1,
        "410 is not retried, and the disabled subscription is not told"
    );
    assert_eq!(world.receiver.received("/ops").len(), 1, "one event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_receiver_times_out_and_is_retried() {
    let world = world("e2e-slow").await;
    let key = account(&world.api, "acme").await;
    let (subscription, _) = subscribe(&world, &key, "/slow", json!(["*"]), true).await;
    world.receiver.slow("/slow", &[Duration::from_secs(5)]); // longer than the 3 s request timeout
    let event = call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let event_id = event.body["id"].as_str().unwrap().to_owned();
    let acc = account_id(&world.api, &key).await;
    eventually("delivered after the timeout", WAIT, || async {
        let status = status_of(&world.store, &acc, &event_id, &subscription).await;
        status.filter(|s| s.status == DeliveryState::Delivered)
    })
    .await;
    let attempts = world
        .store
        .attempts_of_subscription(&acc, &id(&subscription), 10, None)
        .await
        .unwrap()
        .items;
    assert_eq!(
        attempts.len(),
        2,
        "{attempts:?} {:?}",
        world.receiver.received("/slow").len()
    );
    assert_eq!(attempts[1].error.as_deref(), Some("timeout"));
    assert_eq!(attempts[0].status_code, Some(200));
}

/// Issue 18 (make chaos found it): DynamoDB Local stopped for 10 s made `fanout` fail a stream
/// batch past the mapping's 10 retries; the batch went to the on-failure queue and its event was
/// never delivered. The failure queue's own mapping now fans such a batch out again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_batch_fanout_gave_up_on_is_fanned_out_again_from_the_failure_queue() {
    let world = world("e2e-refanout").await;
    let key = account(&world.api, "acme").await;
    let (_, secret) = subscribe(&world, &key, "/late", json!(["order.*"]), true).await;
    let retries = devstack::bridge::Mappings::from_stack(&world.stack, Default::default())
        .unwrap()
        .streams[0]
        .max_retry_attempts
        .unwrap();
    // The first try and every retry fail: the stream's mapping gives the batch up.
    world
        .fanout_outage
        .store(retries + 1, std::sync::atomic::Ordering::SeqCst);
    let event = call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {"n": 1}})),
    )
    .await;
    let event_id = event.body["id"].as_str().unwrap().to_owned();
    let received = eventually("delivered after all", WAIT, || async {
        let received = world.receiver.received("/late");
        (!received.is_empty()).then_some(received)
    })
    .await;
    assert_eq!(
        world
            .fanout_outage
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the stream's mapping gave the batch up first"
    );
    assert_eq!(received[0].headers["webhook-id"], event_id);
    verify(&received[0], &secret);
    let failures = world.stack.queue("FanoutFailureQueue").unwrap().url.clone();
    eventually("the failure queue emptied", WAIT, || async {
        let attributes = world
            .clients
            .sqs
            .get_queue_attributes()
            .queue_url(&failures)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        let messages: u64 = attributes
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("ApproximateNumberOfMessages"))
            .map(|(_, v)| v.parse::<u64>().unwrap())
            .sum();
        (messages == 0).then_some(())
    })
    .await;
}
