//! The portal's pages over the in-memory store: what a session sees (its account, and only its
//! endpoints when limited), receivers' answers escaped, every form's effect.

use super::*;
use crate::common::api::{account, api, call};
use crate::support::api_account;
use shared::model::delivery::{Attempt, DeliveryState, DeliveryStatus};
use shared::model::{AccountId, EventId, SubscriptionId, now};
use shared::ports::delivery::{DeliveryStore, Recorded};

pub(crate) async fn publish(api: &TestApi, key: &str, event_type: &str) -> String {
    let reply = call(
        api,
        "POST",
        "/api/v1/events",
        key,
        Some(json!({"type": event_type, "payload": {"n": 1}})),
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// Records an attempt as `deliver` would, with the receiver's status and body.
pub(crate) async fn attempted(
    api: &TestApi,
    account: AccountId,
    (event, subscription): (&str, &str),
    outcome: DeliveryState,
    code: u16,
    body: &str,
) {
    let event_id = EventId::parse(event).unwrap();
    let subscription_id = SubscriptionId::parse(subscription).unwrap();
    let at = now();
    let delivery_id = format!("{event}:{subscription}");
    api.store
        .record_deliveries(&[Recorded {
            account_id: account,
            attempt: Some(Attempt {
                delivery_id: delivery_id.clone(),
                event_id,
                subscription_id,
                attempt: 1,
                attempted_at: at,
                status_code: Some(code),
                error: None,
                duration_ms: 42,
                response_body: Some(body.to_owned()),
                outcome,
                next_attempt_at: None,
            }),
            status: DeliveryStatus {
                delivery_id,
                event_id,
                subscription_id,
                status: outcome,
                attempts: 1,
                updated_at: at,
                next_attempt_at: None,
            },
        }])
        .await
        .unwrap();
}

#[tokio::test]
async fn the_endpoint_list_shows_each_endpoints_day_and_the_chart() {
    let api = api();
    let key = account(&api, "acme").await;
    let acc = api_account(&api, &key).await;
    let good = subscription(&api, &key, "https://hooks.example.com/good").await;
    let bad = subscription(&api, &key, "https://hooks.example.com/bad").await;
    let event = publish(&api, &key, "order.received").await;
    attempted(
        &api,
        acc,
        (&event, &good),
        DeliveryState::Delivered,
        200,
        "ok",
    )
    .await;
    attempted(
        &api,
        acc,
        (&event, &bad),
        DeliveryState::Retrying,
        500,
        "no",
    )
    .await;
    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    let page = get(&api, "/portal/endpoints", Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", text(&page));
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    let html = text(&page);
    assert!(html.contains("https://hooks.example.com/good"));
    assert!(html.contains("100 %") && html.contains("0 %"), "{html}");
    assert!(html.contains("<svg") && html.contains("2 attempts, 1 failed"));
    assert!(html.contains("id=\"new-endpoint\""));
}

#[tokio::test]
async fn a_receivers_answer_is_shown_as_text() {
    let api = api();
    let key = account(&api, "acme").await;
    let acc = api_account(&api, &key).await;
    let hook = subscription(&api, &key, "https://hooks.example.com/x").await;
    let event = publish(&api, &key, "order.received").await;
    let hostile = "<script>alert('xss')</script><img src=x onerror=alert(1)>";
    attempted(
        &api,
        acc,
        (&event, &hook),
        DeliveryState::Retrying,
        500,
        hostile,
    )
    .await;
    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    for path in [
        format!("/portal/events/{event}"),
        format!("/portal/endpoints/{hook}"),
    ] {
        let page = get(&api, &path, Some(&cookie)).await;
        assert_eq!(page.status, 200, "{path}: {}", text(&page));
        let html = text(&page);
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(
            html.contains("&#60;script&#62;alert(&#39;xss&#39;)&#60;/script&#62;"),
            "{path}: {html}"
        );
    }
}

#[tokio::test]
async fn a_limited_session_sees_and_changes_only_its_endpoints() {
    let api = api();
    let key = account(&api, "acme").await;
    let acc = api_account(&api, &key).await;
    let mine = subscription(&api, &key, "https://hooks.example.com/mine").await;
    let theirs = call(
        &api,
        "POST",
        "/api/v1/subscriptions",
        &key,
        Some(json!({"url": "https://other.example.com/theirs", "event_types": ["*"]})),
    )
    .await
    .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let both = publish(&api, &key, "order.received").await;
    attempted(&api, acc, (&both, &mine), DeliveryState::Delivered, 200, "").await;
    attempted(
        &api,
        acc,
        (&both, &theirs),
        DeliveryState::Delivered,
        200,
        "",
    )
    .await;
    // Only `theirs` subscribes to user events.
    let only_theirs = publish(&api, &key, "user.renamed").await;
    attempted(
        &api,
        acc,
        (&only_theirs, &theirs),
        DeliveryState::Failed,
        500,
        "",
    )
    .await;
    let token = link(&api, &key, Some(json!({"subscription_ids": [mine]}))).await;
    let cookie = sign_in(&api, &token).await;

    let list = get(&api, "/portal/endpoints", Some(&cookie)).await;
    assert!(text(&list).contains("/mine") && !text(&list).contains("/theirs"));
    assert!(!text(&list).contains("id=\"new-endpoint\""));
    assert_eq!(
        get(&api, "/portal/endpoints/new", Some(&cookie))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&api, &format!("/portal/endpoints/{theirs}"), Some(&cookie))
            .await
            .status,
        404
    );
    let token = csrf(&list);
    for action in ["delete", "rotate", "secret", "test"] {
        let path = format!("/portal/endpoints/{theirs}/{action}");
        let reply = post_form(&api, &path, Some(&cookie), &[("csrf", &token)]).await;
        assert_eq!(reply.status, 404, "{action}");
    }
    let log = get(&api, "/portal/events", Some(&cookie)).await;
    assert!(text(&log).contains(&both) && !text(&log).contains(&only_theirs));
    assert_eq!(
        get(
            &api,
            &format!("/portal/events/{only_theirs}"),
            Some(&cookie)
        )
        .await
        .status,
        404
    );
    let event = get(&api, &format!("/portal/events/{both}"), Some(&cookie)).await;
    assert!(text(&event).contains(&mine) && !text(&event).contains(&theirs));
    let resend = post_form(
        &api,
        &format!("/portal/events/{both}/resend"),
        Some(&cookie),
        &[("csrf", &token), ("subscription_id", &theirs)],
    )
    .await;
    assert_eq!(resend.status, 404);
    let still = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{theirs}"),
        &key,
        None,
    )
    .await;
    assert_eq!(still.status, 200, "untouched");
}

#[tokio::test]
async fn another_accounts_endpoints_and_events_are_not_found() {
    let api = api();
    let key = account(&api, "acme").await;
    let other = account(&api, "other").await;
    let theirs = subscription(&api, &other, "https://other.example.com/t").await;
    let event = publish(&api, &other, "order.received").await;
    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    assert_eq!(
        get(&api, &format!("/portal/endpoints/{theirs}"), Some(&cookie))
            .await
            .status,
        404
    );
    assert_eq!(
        get(&api, &format!("/portal/events/{event}"), Some(&cookie))
            .await
            .status,
        404
    );
    let list = get(&api, "/portal/events", Some(&cookie)).await;
    assert!(!text(&list).contains(&event));
}

#[tokio::test]
async fn unknown_pages_and_methods_answer_html_errors() {
    let api = api();
    let missing = get(&api, "/portal/nothing-here", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.headers["content-type"], "text/html; charset=utf-8");
    let wrong = send(
        &api,
        request("DELETE", "/portal/events", &[("host", HOST)], None),
    )
    .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.headers["allow"], "GET");
    let css = get(&api, "/portal/assets/portal.css", None).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    let unsigned = get(&api, "/portal/events", None).await;
    assert_eq!(unsigned.status, 401);
}
