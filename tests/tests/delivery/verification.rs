//! REST Hooks intent verification (issue 15, item 4) on the local stack: a receiver that echoes
//! the challenge gets its subscription activated; one that does not gets it disabled.

use crate::common::api::{account, call};
use crate::common::eventually;
use crate::support::*;
use serde_json::{Value, json};

async fn subscribe_verified(world: &World, key: &str, path: &str) -> (String, String) {
    let body = json!({"url": world.receiver.url(path), "event_types": ["order.*"], "verify": true});
    let reply = call(&world.api, "POST", "/api/v1/subscriptions", key, Some(body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["status"], "pending_verification");
    assert_eq!(reply.body["active"], false);
    (
        reply.body["id"].as_str().unwrap().to_owned(),
        reply.body["secret"].as_str().unwrap().to_owned(),
    )
}

async fn status(world: &World, key: &str, id: &str) -> Value {
    call(
        &world.api,
        "GET",
        &format!("/api/v1/subscriptions/{id}"),
        key,
        None,
    )
    .await
    .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_echoes_the_challenge_is_activated_and_then_gets_events() {
    let world = world("e2e-verify").await;
    let key = account(&world.api, "acme").await;
    world.receiver.echo_challenges("/verified");
    let (id, secret) = subscribe_verified(&world, &key, "/verified").await;
    let shown = eventually("active", WAIT, || async {
        let shown = status(&world, &key, &id).await;
        (shown["status"] == "active").then_some(shown)
    })
    .await;
    assert_eq!(shown["active"], true);
    let asked = world.receiver.received("/verified");
    assert_eq!(asked.len(), 1);
    verify(&asked[0], &secret);
    let asked = body(&asked[0]);
    assert_eq!(asked["type"], "webhook.verification");
    assert_eq!(asked["data"]["subscription_id"], id.as_str());
    assert!(
        asked["data"]["challenge"]
            .as_str()
            .unwrap()
            .starts_with("ch_")
    );

    call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    eventually("the first event", WAIT, || async {
        (world.receiver.received("/verified").len() == 2).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_that_does_not_echo_is_disabled_and_gets_nothing_meanwhile() {
    let world = world("e2e-verify-mute").await;
    let key = account(&world.api, "acme").await;
    let (_, ops_secret) =
        subscribe(&world, &key, "/ops", json!(["subscription.disabled"]), true).await;
    let (id, _) = subscribe_verified(&world, &key, "/mute").await;
    call(
        &world.api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let shown = eventually("disabled after its attempts", WAIT, || async {
        let shown = status(&world, &key, &id).await;
        (shown["status"] == "disabled").then_some(shown)
    })
    .await;
    let reason = shown["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("did not prove intent"), "{reason}");
    assert!(reason.contains("did not echo the challenge"), "{reason}");
    let asked = world.receiver.received("/mute");
    assert_eq!(
        asked.len(),
        3,
        "each attempt of the verification, and no order"
    );
    assert!(
        asked
            .iter()
            .all(|r| body(r)["type"] == "webhook.verification")
    );
    let told = eventually("the operational event", WAIT, || async {
        world.receiver.received("/ops").first().cloned()
    })
    .await;
    verify(&told, &ops_secret);
    assert_eq!(body(&told)["data"]["subscription_id"], id.as_str());
}
