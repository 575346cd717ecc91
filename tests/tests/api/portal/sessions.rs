//! Portal links and sessions: one-time links, expiry, cookies, CSRF and origin checks, sign-out,
//! disabled accounts.

use super::*;
use crate::common::api::{account, api, call};
use crate::support::{api_account, assert_problem};
use shared::model::{PortalGrant, PortalLink, now};
use shared::ports::portal::PortalStore;

#[tokio::test]
async fn a_link_is_asked_for_with_the_account_key_and_checked() {
    let api = api();
    let key = account(&api, "acme").await;
    let reply = call_with_host(&api, &key, json!({})).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["session_seconds"], 3600);
    assert_eq!(reply.body["subscription_ids"], Value::Null);
    let anonymous = send(
        &api,
        request(
            "POST",
            "/api/v1/portal/sessions",
            &[("content-type", "application/json")],
            Some(b"{}".to_vec()),
        ),
    )
    .await;
    assert_problem(&anonymous, 401);
    let too_short = call_with_host(&api, &key, json!({"session_seconds": 10})).await;
    assert_problem(&too_short, 422);
    assert_eq!(too_short.body["errors"][0]["field"], "session_seconds");
    let unknown = call_with_host(
        &api,
        &key,
        json!({"subscription_ids": ["sub_01KBZZZZZZZZZZZZZZZZZZZZZZ", "nope"]}),
    )
    .await;
    assert_problem(&unknown, 422);
    assert_eq!(unknown.body["errors"][1]["field"], "subscription_ids[1]");
    let extra = call_with_host(&api, &key, json!({"admin": true})).await;
    assert_problem(&extra, 400);
    // Another account's subscription is not this account's to hand out.
    let other = account(&api, "other").await;
    let theirs = subscription(&api, &other, "https://hooks.example.com/theirs").await;
    let foreign = call_with_host(&api, &key, json!({"subscription_ids": [theirs]})).await;
    assert_problem(&foreign, 422);
}

#[tokio::test]
async fn a_link_opens_once_into_a_strict_http_only_cookie() {
    let api = api();
    let key = account(&api, "acme").await;
    let token = link(&api, &key, None).await;
    // Following the link changes nothing: it shows the form that opens it.
    let page = get(&api, &format!("/portal/login?token={token}"), None).await;
    assert_eq!(page.status, 200);
    assert!(text(&page).contains(&format!("name=\"token\" value=\"{token}\"")));
    assert!(page.headers.get("set-cookie").is_none());
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    assert!(
        page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let opened = post_form(&api, "/portal/login", None, &[("token", &token)]).await;
    assert_eq!(opened.status, 303);
    let cookie = opened.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("rusthook_portal=rhps_"), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/portal"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let max_age: u64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!((3590..=3600).contains(&max_age), "{max_age}");
    let again = post_form(&api, "/portal/login", None, &[("token", &token)]).await;
    assert_eq!(again.status, 401, "one-time");
    assert!(text(&again).contains("Signed out"));
    let forged = post_form(&api, "/portal/login", None, &[("token", "rhpl_forged")]).await;
    assert_eq!(forged.status, 401);
}

#[tokio::test]
async fn an_expired_link_or_a_disabled_account_lets_no_one_in() {
    let api = api();
    let key = account(&api, "acme").await;
    let id = api_account(&api, &key).await;
    let expired = PortalLink {
        grant: PortalGrant {
            account_id: id,
            subscriptions: None,
            expires_at: now(),
        },
        session_seconds: 3600,
    };
    api.store
        .put_portal_link(&shared::domain::secrets::api_key_hash("rhpl_old"), &expired)
        .await
        .unwrap();
    let late = post_form(&api, "/portal/login", None, &[("token", "rhpl_old")]).await;
    assert_eq!(late.status, 401);

    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    assert_eq!(
        get(&api, "/portal/endpoints", Some(&cookie)).await.status,
        200
    );
    let admin = crate::common::api::ADMIN_KEY;
    let disabled = call(
        &api,
        "PATCH",
        &format!("/api/v1/accounts/{id}"),
        admin,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    let refused = get(&api, "/portal/endpoints", Some(&cookie)).await;
    assert_eq!(
        refused.status, 401,
        "a disabled account's sessions end at once"
    );
}

#[tokio::test]
async fn forms_need_the_sessions_csrf_token_and_the_portals_origin() {
    let api = api();
    let key = account(&api, "acme").await;
    let sub = subscription(&api, &key, "https://hooks.example.com/a").await;
    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    let page = get(&api, &format!("/portal/endpoints/{sub}"), Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", text(&page));
    let token = csrf(&page);
    let path = format!("/portal/endpoints/{sub}/rotate");
    let missing = post_form(&api, &path, Some(&cookie), &[]).await;
    assert_eq!(missing.status, 403);
    let wrong = post_form(&api, &path, Some(&cookie), &[("csrf", "x")]).await;
    assert_eq!(wrong.status, 403);
    let body = format!("csrf={token}");
    let elsewhere = send(
        &api,
        request(
            "POST",
            &path,
            &[
                ("host", HOST),
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", "https://evil.example.net"),
                ("cookie", &cookie),
            ],
            Some(body.into_bytes()),
        ),
    )
    .await;
    assert_eq!(elsewhere.status, 403, "another origin");
    let secret_before = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{sub}/secret"),
        &key,
        None,
    )
    .await;
    let rotated = post_form(&api, &path, Some(&cookie), &[("csrf", &token)]).await;
    assert_eq!(rotated.status, 303);
    assert_eq!(
        rotated.headers["location"],
        format!("/portal/endpoints/{sub}?done=rotated").as_str()
    );
    let secret_after = call(
        &api,
        "GET",
        &format!("/api/v1/subscriptions/{sub}/secret"),
        &key,
        None,
    )
    .await;
    assert_ne!(secret_before.body["secret"], secret_after.body["secret"]);
    let no_session = post_form(&api, &path, None, &[("csrf", &token)]).await;
    assert_eq!(no_session.status, 401);
}

#[tokio::test]
async fn signing_out_ends_the_session_and_clears_the_cookie() {
    let api = api();
    let key = account(&api, "acme").await;
    let cookie = sign_in(&api, &link(&api, &key, None).await).await;
    let page = get(&api, "/portal/endpoints", Some(&cookie)).await;
    let out = post_form(
        &api,
        "/portal/logout",
        Some(&cookie),
        &[("csrf", &csrf(&page))],
    )
    .await;
    assert_eq!(out.status, 200);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("rusthook_portal=; Path=/portal; Max-Age=0;")
    );
    assert_eq!(
        get(&api, "/portal/endpoints", Some(&cookie)).await.status,
        401
    );
}
