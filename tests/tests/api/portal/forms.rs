//! The portal's forms over the in-memory store: endpoints created, edited, tested, replayed
//! and deleted; the event log filtered; an event resent.

use super::pages::{attempted, publish};
use super::*;
use crate::common::api::{account, api, call};
use crate::support::api_account;
use shared::model::delivery::DeliveryState;

#[tokio::test]
async fn endpoints_are_created_edited_tested_replayed_and_deleted_through_forms() {
    let api = api();
    let key = account(&api, "acme").await;
    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    let new = get(&api, "/portal/endpoints/new", Some(&cookie)).await;
    assert_eq!(new.status, 200);
    assert!(
        text(&new).contains("value=\"order.received\""),
        "the catalog's types to pick"
    );
    let token = csrf(&new);
    let invalid = post_form(
        &api,
        "/portal/endpoints",
        Some(&cookie),
        &[
            ("csrf", &token),
            ("url", "http://internal.example.com/x"),
            ("event_type", "order.received"),
        ],
    )
    .await;
    assert_eq!(invalid.status, 422);
    assert!(text(&invalid).contains("id=\"form-errors\"") && text(&invalid).contains("url: "));
    let created = post_form(
        &api,
        "/portal/endpoints",
        Some(&cookie),
        &[
            ("csrf", &token),
            ("url", "https://hooks.example.com/new"),
            ("description", "mine <b>"),
            ("event_type", "order.received"),
            ("other_types", "user.*, photo.liked"),
        ],
    )
    .await;
    assert_eq!(created.status, 303, "{}", text(&created));
    let location = created.headers["location"].to_str().unwrap().to_owned();
    let id = location
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let api_view = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(
        api_view.body["event_types"],
        json!(["order.received", "user.*", "photo.liked"])
    );
    assert_eq!(api_view.body["description"], "mine <b>");
    let page = get(&api, &location, Some(&cookie)).await;
    assert!(text(&page).contains("Endpoint created"));
    assert!(text(&page).contains("mine &#60;b&#62;"));
    let revealed = post_form(
        &api,
        &format!("/portal/endpoints/{id}/secret"),
        Some(&cookie),
        &[("csrf", &token)],
    )
    .await;
    let secret = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{id}/secret"),
        &key,
        None,
    )
    .await;
    assert!(text(&revealed).contains(secret.body["secret"].as_str().unwrap()));
    let tested = post_form(
        &api,
        &format!("/portal/endpoints/{id}/test"),
        Some(&cookie),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(tested.status, 303);
    assert_eq!(
        crate::support::event_types(&api).last().unwrap(),
        "webhook.test"
    );
    let replay = post_form(
        &api,
        &format!("/portal/endpoints/{id}/replay"),
        Some(&cookie),
        &[("csrf", &token), ("since", "2020-01-01T00:00")],
    )
    .await;
    assert_eq!(replay.status, 303, "{}", text(&replay));
    let bad_time = post_form(
        &api,
        &format!("/portal/endpoints/{id}/replay"),
        Some(&cookie),
        &[("csrf", &token), ("since", "yesterday")],
    )
    .await;
    assert_eq!(bad_time.status, 422);
    let saved = post_form(
        &api,
        &format!("/portal/endpoints/{id}"),
        Some(&cookie),
        &[
            ("csrf", &token),
            ("url", "https://other.example.com/moved"),
            ("event_type", "order.received"),
        ],
    )
    .await;
    assert_eq!(saved.status, 303);
    let api_view = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(api_view.body["url"], "https://other.example.com/moved");
    assert_eq!(api_view.body["active"], false, "the box was not ticked");
    let deleted = post_form(
        &api,
        &format!("/portal/endpoints/{id}/delete"),
        Some(&cookie),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(deleted.status, 303);
    let gone = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{id}"),
        &key,
        None,
    )
    .await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn the_event_log_filters_by_type_and_status_and_resends() {
    let api = api();
    let key = account(&api, "acme").await;
    let acc = api_account(&api, &key).await;
    let hook = subscription(&api, &key, "https://hooks.example.com/x").await;
    let ok = publish(&api, &key, "order.received").await;
    attempted(&api, acc, (&ok, &hook), DeliveryState::Delivered, 200, "").await;
    let failed = publish(&api, &key, "order.shipped").await;
    attempted(&api, acc, (&failed, &hook), DeliveryState::Failed, 500, "").await;
    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    let all = get(&api, "/portal/events", Some(&cookie)).await;
    assert!(text(&all).contains(&ok) && text(&all).contains(&failed));
    let only_failed = get(&api, "/portal/events?status=failed", Some(&cookie)).await;
    assert!(!text(&only_failed).contains(&ok) && text(&only_failed).contains(&failed));
    let by_type = get(&api, "/portal/events?type=order.received", Some(&cookie)).await;
    assert!(text(&by_type).contains(&ok) && !text(&by_type).contains(&failed));
    assert_eq!(
        get(&api, "/portal/events?status=weird", Some(&cookie))
            .await
            .status,
        422
    );
    assert_eq!(
        get(&api, "/portal/events?type=Bad%20Type", Some(&cookie))
            .await
            .status,
        422
    );
    let resent = post_form(
        &api,
        &format!("/portal/events/{failed}/resend"),
        Some(&cookie),
        &[("csrf", &csrf(&all)), ("subscription_id", &hook)],
    )
    .await;
    assert_eq!(resent.status, 303);
    let queued = api.queue.as_ref().unwrap().sent.lock().unwrap().clone();
    assert_eq!(queued.len(), 1, "one delivery queued");
    assert_eq!(queued[0].event_id.to_string(), failed);
}
