//! The sample event generator on the local stack (issue 15, item 1): a scheduled invocation's
//! samples go through the outbox, the stream and fan-out to the account's subscriptions.

use crate::common::api::{account, call};
use crate::common::eventually;
use crate::support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scheduled_minute_delivers_the_accounts_samples() {
    let world = world("e2e-samples").await;
    let key = account(&world.api, "acme").await;
    let (_, secret) = subscribe(&world, &key, "/orders", json!(["order.received"]), true).await;
    let on = call(
        &world.api,
        "PUT",
        "/api/v1/sample-events",
        &key,
        Some(json!({"enabled": true, "period_seconds": 30})),
    )
    .await;
    assert_eq!(on.status, 200, "{}", on.body);
    // EventBridge's event for a minute already past: its two samples are due at once.
    let minute = shared::model::now().unix_seconds() / 60 * 60 - 120;
    let time = shared::model::Timestamp::from_unix_millis(minute * 1000).unwrap();
    let event = lambda_runtime::LambdaEvent::new(
        json!({"source": "aws.events", "detail-type": "Scheduled Event", "time": time.to_string()}),
        lambda_runtime::Context::default(),
    );
    let answer = samples::handle(&world.store, event).await.unwrap();
    assert_eq!(answer, json!({"events": 2}));
    let received = eventually("both samples", WAIT, || async {
        let got = world.receiver.received("/orders");
        (got.len() == 2).then_some(got)
    })
    .await;
    for delivery in &received {
        verify(delivery, &secret);
        let body = body(delivery);
        assert_eq!(body["type"], "order.received");
        assert_eq!(body["data"]["sample"], true);
        assert!(
            body["data"]["order_id"]
                .as_str()
                .unwrap()
                .starts_with("ord_")
        );
    }
}
