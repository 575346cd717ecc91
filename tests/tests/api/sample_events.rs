//! Sample events (issue 15, item 1): an account opts in at a period; each minute's share is
//! emitted through the outbox as `order.received` events the catalog's schema describes.

use crate::common::api::{account, api, call};
use serde_json::{Value, json};
use shared::api::sample_events::emit_sample_minute;

#[tokio::test]
async fn an_account_opts_in_at_a_period_and_gets_that_minutes_samples() {
    let api = api();
    let (key, quiet) = (account(&api, "acme").await, account(&api, "globex").await);
    let read = call(&api, "GET", "/api/v1/sample-events", &key, None).await;
    assert_eq!(read.body, json!({"enabled": false, "period_seconds": null}));
    for bad in [
        json!({"enabled": true, "period_seconds": 4}),
        json!({"enabled": true, "period_seconds": 3601}),
    ] {
        let reply = call(
            &api,
            "PUT",
            "/api/v1/sample-events",
            &key,
            Some(bad.clone()),
        )
        .await;
        assert_eq!(reply.status, 422, "{bad}");
    }
    assert_eq!(
        call(
            &api,
            "PUT",
            "/api/v1/sample-events",
            &key,
            Some(json!({"period_seconds": 5}))
        )
        .await
        .status,
        400
    );
    let on = call(
        &api,
        "PUT",
        "/api/v1/sample-events",
        &key,
        Some(json!({"enabled": true, "period_seconds": 20})),
    )
    .await;
    assert_eq!(on.status, 200, "{}", on.body);
    assert_eq!(on.body, json!({"enabled": true, "period_seconds": 20}));
    assert_eq!(
        call(&api, "GET", "/api/v1/sample-events", &key, None)
            .await
            .body,
        on.body
    );
    let default = call(
        &api,
        "PUT",
        "/api/v1/sample-events",
        &quiet,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(
        default.body["period_seconds"], 5,
        "the reference server's 5 s"
    );
    call(
        &api,
        "PUT",
        "/api/v1/sample-events",
        &quiet,
        Some(json!({"enabled": false})),
    )
    .await;

    // A minute long past: every offset is due, nothing waits.
    let minute = 1_767_225_600;
    let waited = std::sync::Mutex::new(Vec::new());
    let sent = emit_sample_minute(&api.store, minute, |d| {
        waited.lock().unwrap().push(d);
        async {}
    })
    .await
    .unwrap();
    assert_eq!(
        sent, 3,
        "0 s, 20 s and 40 s of that minute; none for the account that left"
    );
    assert!(waited.lock().unwrap().is_empty());
    let events = api.store.events();
    assert_eq!(events.len(), 3);
    let catalog = call(&api, "GET", "/api/v1/event-types", &key, None).await;
    let schema = catalog.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "order.received")
        .unwrap()["schema"]
        .clone();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let acme = events[0].account_id;
    for event in &events {
        assert_eq!(event.event_type, "order.received");
        assert_eq!(event.account_id, acme);
        assert!(validator.is_valid(&event.data), "{}", event.data);
        let items = event.data["line_items"].as_array().unwrap();
        let total: u64 = items
            .iter()
            .map(|i| i["quantity"].as_u64().unwrap() * i["unit_amount"].as_u64().unwrap())
            .sum();
        assert_eq!(event.data["total"], total);
        assert_eq!(event.data["sample"], Value::Bool(true));
    }
    assert_ne!(
        events[0].data["order_id"], events[1].data["order_id"],
        "each its own order"
    );

    // A minute to come waits for each offset.
    let ahead = shared::model::now().unix_seconds() + 120;
    emit_sample_minute(&api.store, ahead, |d| {
        waited.lock().unwrap().push(d);
        async {}
    })
    .await
    .unwrap();
    let waits = waited.lock().unwrap().clone();
    assert_eq!(waits.len(), 3);
    assert!(waits.iter().all(|d| d.as_secs() >= 60), "{waits:?}");
}
