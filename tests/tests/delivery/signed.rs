//! What a receiver gets: each matching event once, signed with the subscription's secrets; test
//! events; no connection to refused addresses.

use crate::common::api::{account, call};
use crate::common::eventually;
use crate::common::receiver::Receiver;
use crate::support::*;
use serde_json::json;
use shared::adapters::http_sender::HttpSender;
use shared::domain::target::TargetPolicy;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_matching_subscription_gets_each_event_once_signed() {
    let world = world("e2e-match").await;
    let key = account(&world.api, "acme").await;
    let (_, users_secret) = subscribe(&world, &key, "/users", json!(["user.*"]), true).await;
    let (_, likes_secret) = subscribe(&world, &key, "/likes", json!(["photo.liked"]), true).await;
    let (_, orders_secret) =
        subscribe(&world, &key, "/orders", json!(["order.received"]), true).await;
    subscribe(&world, &key, "/inactive", json!(["*"]), false).await;
    subscribe(&world, &key, "/nothing", json!(["invoice.paid"]), true).await;

    let user = call(
        &world.api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    let id = user.body["id"].as_str().unwrap().to_owned();
    call(
        &world.api,
        "PUT",
        &format!("/api/v1/users/{id}"),
        &key,
        Some(json!({"username": "adam13"})),
    )
    .await;
    call(
        &world.api,
        "DELETE",
        &format!("/api/v1/users/{id}"),
        &key,
        None,
    )
    .await;
    call(&world.api, "POST", "/api/v1/photos/p1/likes", &key, None).await;
    call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {"order": 7}})),
    )
    .await;

    eventually("5 deliveries", WAIT, || async {
        (world.receiver.all().len() >= 5).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await; // anything extra would arrive now
    let users = world.receiver.received("/users");
    // Each once; in any order: the delivery queue is a standard SQS queue, and deliveries run
    // concurrently, so arrival order is not promised (README, Delivery).
    let mut types: Vec<String> = users
        .iter()
        .map(|r| body(r)["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["user.created", "user.deleted", "user.updated"]);
    users.iter().for_each(|r| verify(r, &users_secret));
    let created = users
        .iter()
        .find(|r| body(r)["type"] == "user.created")
        .unwrap();
    assert_eq!(
        body(created)["data"],
        user.body,
        "the payload is the API representation"
    );
    let likes = world.receiver.received("/likes");
    assert_eq!(likes.len(), 1);
    verify(&likes[0], &likes_secret);
    assert_eq!(body(&likes[0])["data"]["likes"], 1);
    let orders = world.receiver.received("/orders");
    assert_eq!(orders.len(), 1);
    verify(&orders[0], &orders_secret);
    assert_eq!(body(&orders[0])["data"], json!({"order": 7}));
    assert_eq!(
        orders[0].headers["webhook-id"],
        body(&orders[0])["id"].as_str().unwrap()
    );
    assert!(
        world.receiver.received("/inactive").is_empty()
            && world.receiver.received("/nothing").is_empty()
    );
    assert_eq!(world.receiver.all().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_a_rotation_both_secrets_sign_and_each_verifies() {
    let world = world("e2e-rotate").await;
    let key = account(&world.api, "acme").await;
    let (subscription, old_secret) = subscribe(&world, &key, "/rotated", json!(["*"]), true).await;
    let rotated = call(
        &world.api,
        "POST",
        &format!("/api/v1/subscriptions/{subscription}/secret/rotate"),
        &key,
        None,
    )
    .await;
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let received = eventually("the delivery", WAIT, || async {
        world.receiver.received("/rotated").into_iter().next()
    })
    .await;
    assert_eq!(received.headers["webhook-signature"].split(' ').count(), 2);
    verify(&received, &new_secret);
    verify(&received, &old_secret);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_test_event_goes_to_its_subscription_only() {
    let world = world("e2e-test").await;
    let key = account(&world.api, "acme").await;
    let (subscription, secret) = subscribe(&world, &key, "/tested", json!(["order.*"]), true).await;
    subscribe(&world, &key, "/bystander", json!(["*"]), true).await;
    let reply = call(
        &world.api,
        "POST",
        &format!("/api/v1/subscriptions/{subscription}/test"),
        &key,
        None,
    )
    .await;
    assert_eq!(reply.status, 202);
    let received = eventually("the test event", WAIT, || async {
        world.receiver.received("/tested").into_iter().next()
    })
    .await;
    verify(&received, &secret);
    assert_eq!(body(&received)["type"], "webhook.test");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(world.receiver.received("/bystander").is_empty());
}

#[tokio::test]
async fn the_sender_never_connects_to_addresses_the_policy_refuses() {
    let receiver = Receiver::start().await;
    let port = receiver.base.rsplit(':').next().unwrap().to_owned();
    // http allowed, but no CIDR: loopback is refused even though the name resolves to it.
    let strict = TargetPolicy::from_values(Some("true"), None).unwrap();
    let sender = HttpSender::new(strict, Duration::from_secs(2), Duration::from_secs(3)).unwrap();
    for url in [
        format!("http://localhost:{port}/pinned"),
        format!("http://127.0.0.1:{port}/pinned"),
    ] {
        let request = shared::ports::delivery::WebhookRequest {
            url,
            headers: vec![],
            body: b"{}".to_vec(),
        };
        let response = shared::ports::delivery::WebhookSender::post(&sender, &request).await;
        assert_eq!(response.status, None);
        let error = response.error.unwrap();
        assert!(error == "refused_target" || error == "connect", "{error}");
    }
    // Through the pipeline the target check refuses before any connection.
    assert!(
        receiver.received("/pinned").is_empty(),
        "the receiver on loopback was never reached"
    );
    // And redirects are failures, not followed.
    receiver.always("/moved", 302);
    let open = HttpSender::new(loopback(), Duration::from_secs(2), Duration::from_secs(3)).unwrap();
    let request = shared::ports::delivery::WebhookRequest {
        url: receiver.url("/moved"),
        headers: vec![],
        body: b"{}".to_vec(),
    };
    let response = shared::ports::delivery::WebhookSender::post(&open, &request).await;
    assert_eq!(response.status, Some(302));
    assert_eq!(response.error.as_deref(), Some("redirect"));
}

/// A subscription's own headers (issue 15: a receiver's token) arrive with every delivery beside
/// the signature, and the API shows them masked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriptions_own_headers_arrive_with_each_delivery() {
    let world = world("e2e-headers").await;
    let key = account(&world.api, "acme").await;
    let body = json!({
        "url": world.receiver.url("/token"),
        "event_types": ["order.received"],
        "headers": {"Authorization": "Bearer receiver-token-0001", "X-Tenant": "acme"},
    });
    let created = call(
        &world.api,
        "POST",
        "/api/v1/subscriptions",
        &key,
        Some(body),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["headers"],
        json!({"Authorization": "****0001", "X-Tenant": "****"})
    );
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {"order": 9}})),
    )
    .await;
    eventually("the delivery", WAIT, || async {
        world.receiver.received("/token").into_iter().next()
    })
    .await;
    let received = &world.receiver.received("/token")[0];
    let header = |name: &str| received.headers.get(name).map(String::as_str);
    assert_eq!(header("authorization"), Some("Bearer receiver-token-0001"));
    assert_eq!(header("x-tenant"), Some("acme"));
    verify(received, &secret);
}

/// The broadcast test reaches every active subscription, whatever its event types, signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broadcast_test_reaches_every_active_subscription() {
    let world = world("e2e-broadcast").await;
    let key = account(&world.api, "acme").await;
    let (_, users_secret) = subscribe(&world, &key, "/b-users", json!(["user.*"]), true).await;
    let (_, orders_secret) =
        subscribe(&world, &key, "/b-orders", json!(["order.received"]), true).await;
    subscribe(&world, &key, "/b-paused", json!(["*"]), false).await;
    let sent = call(&world.api, "POST", "/api/v1/subscriptions/test", &key, None).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    assert_eq!(sent.body["subscriptions"], 2);
    eventually("both tested", WAIT, || async {
        (!world.receiver.received("/b-users").is_empty()
            && !world.receiver.received("/b-orders").is_empty())
        .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (path, secret) in [("/b-users", &users_secret), ("/b-orders", &orders_secret)] {
        let received = world.receiver.received(path);
        assert_eq!(received.len(), 1, "{path}");
        assert_eq!(body(&received[0])["type"], "webhook.test");
        assert_eq!(body(&received[0])["id"], sent.body["id"]);
        verify(&received[0], secret);
    }
    assert!(world.receiver.received("/b-paused").is_empty());
}
