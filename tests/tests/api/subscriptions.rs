//! Subscriptions: their lifecycle, secrets, and the target policy on their URLs.

use crate::common::api::{account, api, call};
use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn subscriptions_lifecycle() {
    let api = api();
    let key = account(&api, "acme").await;
    let created = call(&api, "POST", "/api/v1/subscriptions", &key, Some(json!({
        "url": "https://hooks.example.com/in", "event_types": ["user.created", "photo.*", "user.created"], "description": "crm"
    }))).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sub_"));
    assert_eq!(
        created.body["event_types"],
        json!(["user.created", "photo.*"]),
        "duplicates dropped"
    );
    assert_eq!(created.body["active"], true);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));

    let fetched = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{id}"),
        &key,
        None,
    )
    .await;
    assert!(
        fetched.body.get("secret").is_none(),
        "secrets only from /secret"
    );
    let got_secret = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{id}/secret"),
        &key,
        None,
    )
    .await;
    assert_eq!(got_secret.body["secret"], secret.as_str());

    let all = call(
        &api,
        "POST",
        "/api/v1/subscriptions",
        &key,
        Some(json!({"url": "https://other.example.com/", "event_types": ["*"]})),
    )
    .await;
    assert_eq!(all.status, 201);
    let users_only = call(&api, "POST", "/api/v1/subscriptions", &key, Some(json!({"url": "https://other.example.com/u", "event_types": ["user.*"], "active": false}))).await;
    assert_eq!(users_only.body["active"], false);
    let matching = |t: &str| {
        let api = &api;
        let key = key.clone();
        let t = t.to_owned();
        async move {
            let reply = call(
                api,
                "GET",
                &format!("/api/v1/subscriptions?event_type={t}"),
                &key,
                None,
            )
            .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body["data"].as_array().unwrap().len()
        }
    };
    assert_eq!(matching("photo.liked").await, 2);
    assert_eq!(matching("user.created").await, 3);
    assert_eq!(matching("order.received").await, 1);
    assert_problem(
        &call(
            &api,
            "GET",
            "/api/v1/subscriptions?event_type=user.*",
            &key,
            None,
        )
        .await,
        422,
    );

    for bad in [
        json!({"url": "https://internal.example.com/"}),
        json!({"event_types": []}),
        json!({"description": "d".repeat(501)}),
        json!({"active": "yes"}),
        json!({"secret": "whsec_mine"}),
    ] {
        let reply = call(
            &api,
            "PATCH",
            &format!("/api/v1/subscriptions/{id}"),
            &key,
            Some(bad.clone()),
        )
        .await;
        let expected = if bad.get("active").is_some() || bad.get("secret").is_some() {
            400
        } else {
            422
        };
        assert_problem(&reply, expected);
    }
    let patched = call(
        &api,
        "PATCH",
        &format!("/api/v1/subscriptions/{id}"),
        &key,
        Some(json!({"active": false, "event_types": ["order.*"]})),
    )
    .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["active"], false);
    assert_eq!(patched.body["event_types"], json!(["order.*"]));

    let rotated = call(
        &api,
        "POST",
        &format!("/api/v1/subscriptions/{id}/secret/rotate"),
        &key,
        None,
    )
    .await;
    assert_eq!(rotated.status, 200);
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert!(rotated.body["previous_secret_expires_at"].is_string());
    let stored = shared::ports::SubscriptionStore::get_subscription(
        &api.store,
        &api_account(&api, &key).await,
        &id.parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        stored.secrets.len(),
        2,
        "the old secret keeps signing for 24 h"
    );
    assert_eq!(stored.secrets[1].secret, secret);

    let test = call(
        &api,
        "POST",
        &format!("/api/v1/subscriptions/{id}/test"),
        &key,
        None,
    )
    .await;
    assert_eq!(test.status, 202);
    assert_eq!(test.body["type"], "webhook.test");
    let test_event = api.store.events().into_iter().last().unwrap();
    assert_eq!(
        test_event.subscription_id.map(|s| s.to_string()),
        Some(id.clone())
    );

    assert_eq!(
        call(
            &api,
            "DELETE",
            &format!("/api/v1/subscriptions/{id}"),
            &key,
            None
        )
        .await
        .status,
        204
    );
    assert_problem(
        &call(
            &api,
            "GET",
            &format!("/api/v1/subscriptions/{id}"),
            &key,
            None,
        )
        .await,
        404,
    );
}

#[tokio::test]
async fn subscription_urls_follow_the_target_policy() {
    let api = api();
    let key = account(&api, "acme").await;
    for url in [
        "http://hooks.example.com/",
        "https://user:pw@hooks.example.com/",
        "https://internal.example.com/",
        "https://metadata.example.com/",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:127.0.0.1]/",
        "https://2130706433/",
        "https://0x7f.0.0.1/",
        "https://10.0.0.1/",
        "https://unknown.example.com/",
        "not a url",
    ] {
        let reply = call(
            &api,
            "POST",
            "/api/v1/subscriptions",
            &key,
            Some(json!({"url": url, "event_types": ["*"]})),
        )
        .await;
        assert_problem(&reply, 422);
        assert_eq!(reply.body["errors"][0]["field"], "url", "{url}");
    }
    for event_types in [
        json!([]),
        json!(["User.created"]),
        json!(["*.created"]),
        json!(["a.b.c"]),
    ] {
        let reply = call(
            &api,
            "POST",
            "/api/v1/subscriptions",
            &key,
            Some(json!({"url": "https://hooks.example.com/", "event_types": event_types})),
        )
        .await;
        assert_problem(&reply, 422);
    }
}

/// Issue 18's D5: a `noun.*` filter is held to the 100 characters every event type and filter
/// has (a 100,000-character one was stored).
#[tokio::test]
async fn an_overlong_noun_filter_is_refused() {
    let api = api();
    let key = account(&api, "acme").await;
    let create = |filter: String| {
        call(
            &api,
            "POST",
            "/api/v1/subscriptions",
            &key,
            Some(json!({"url": "https://hooks.example.com/in", "event_types": [filter]})),
        )
    };
    let overlong = create(format!("{}.*", "u".repeat(100_000))).await;
    assert_problem(&overlong, 422);
    assert_eq!(overlong.body["errors"][0]["field"], "event_types[0]");
    let longest = create(format!("{}.*", "u".repeat(98))).await;
    assert_eq!(longest.status, 201, "{}", longest.body);
}

/// Custom headers: validated, shown masked everywhere, replaced whole by a PATCH.
#[tokio::test]
async fn custom_headers_are_checked_masked_and_replaced() {
    let api = api();
    let key = account(&api, "acme").await;
    let create = |headers: serde_json::Value| {
        call(
            &api,
            "POST",
            "/api/v1/subscriptions",
            &key,
            Some(
                json!({"url": "https://hooks.example.com/in", "event_types": ["*"], "headers": headers}),
            ),
        )
    };
    let refused = create(json!({"Host": "evil.example", "X-Ok": "1", "Bad Name": "x"})).await;
    assert_problem(&refused, 422);
    let mut fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["headers.Bad Name", "headers.Host"]);
    assert_problem(&create(json!({"X-Newline": "a\r\nInjected: 1"})).await, 422);
    assert_problem(&create(json!({"Webhook-Id": "forged"})).await, 422);

    let created = create(json!({"Authorization": "Bearer 0123456789abcdef"})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let masked = json!({"Authorization": "****cdef"});
    assert_eq!(created.body["headers"], masked);
    let id = created.body["id"].as_str().unwrap();
    let path = format!("/api/v1/subscriptions/{id}");
    assert_eq!(
        call(&api, "GET", &path, &key, None).await.body["headers"],
        masked
    );
    let listed = call(&api, "GET", "/api/v1/subscriptions", &key, None).await;
    assert_eq!(listed.body["data"][0]["headers"], masked);
    assert!(
        !listed.body.to_string().contains("0123456789ab"),
        "never shown whole"
    );

    let patched = call(
        &api,
        "PATCH",
        &path,
        &key,
        Some(json!({"headers": {"X-Tenant": "acme"}})),
    )
    .await;
    assert_eq!(
        patched.body["headers"],
        json!({"X-Tenant": "****"}),
        "replaced whole"
    );
    let cleared = call(&api, "PATCH", &path, &key, Some(json!({"headers": {}}))).await;
    assert_eq!(cleared.body["headers"], json!({}));
    let unchanged = call(
        &api,
        "PATCH",
        &path,
        &key,
        Some(json!({"description": "crm"})),
    )
    .await;
    assert_eq!(unchanged.body["headers"], json!({}), "left as it was");
}
