//! API keys (issue 15, item 8): more keys per account, listed without the key, revoked at once,
//! and accounts the admin disables.

use crate::common::api::{ADMIN_KEY, TestApi, account, api, call, request, send};
use aws_lambda_events::apigw::{ApiGatewayRequestAuthorizer, ApiGatewayV2httpRequestContext};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

async fn new_key(api: &TestApi, key: &str, name: &str) -> Value {
    let made = call(
        api,
        "POST",
        "/api/v1/api-keys",
        key,
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body
}

async fn works(api: &TestApi, key: &str) -> u16 {
    call(api, "GET", "/api/v1/subscriptions", key, None)
        .await
        .status
}

/// A request as API Gateway passes it on after its authorizer vouched for `account` (perhaps
/// from its cache, minutes old).
async fn vouched(api: &TestApi, key: &str, account: &str) -> u16 {
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.fields.insert("caller".into(), json!("account"));
    authorizer
        .fields
        .insert("account_id".into(), json!(account));
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    let auth = format!("Bearer {key}");
    let made = request(
        "GET",
        "/api/v1/subscriptions",
        &[("authorization", auth.as_str())],
        None,
    )
    .with_request_context(RequestContext::ApiGatewayV2(context));
    send(api, made).await.status
}

#[tokio::test]
async fn keys_are_created_listed_and_revoked_at_once() {
    let api = api();
    let first = account(&api, "acme").await;
    let made = new_key(&api, &first, " ci deploys ").await;
    let second = made["api_key"].as_str().unwrap().to_owned();
    assert!(second.starts_with("rhk_"));
    assert_eq!(made["name"], "ci deploys");
    assert_eq!(made["prefix"], &second[..12]);
    assert_eq!(made["last_used_at"], Value::Null);
    assert_eq!(works(&api, &second).await, 200);

    let listed = call(&api, "GET", "/api/v1/api-keys", &first, None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let keys = listed.body["data"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["name"], "default");
    assert_eq!(keys[1]["id"], made["id"]);
    assert!(!listed.body.to_string().contains(&second), "never the key");
    assert!(!listed.body.to_string().contains("hash"), "nor its hash");
    for key in keys {
        assert!(key["last_used_at"].is_string(), "both were used: {key}");
    }

    let account_id = {
        let whoami = call(&api, "POST", "/api/v1/subscriptions/test", &second, None).await;
        assert_eq!(whoami.status, 202);
        api.store.events()[0].account_id.to_string()
    };
    assert_eq!(vouched(&api, &second, &account_id).await, 200);
    let path = format!("/api/v1/api-keys/{}", made["id"].as_str().unwrap());
    let revoked = call(&api, "DELETE", &path, &first, None).await;
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    assert_eq!(works(&api, &second).await, 401, "refused at once");
    assert_eq!(
        vouched(&api, &second, &account_id).await,
        401,
        "even when the gateway's cached answer vouches for it"
    );
    assert_eq!(call(&api, "DELETE", &path, &first, None).await.status, 404);
    let default_id = keys[0]["id"].as_str().unwrap();
    let last = call(
        &api,
        "DELETE",
        &format!("/api/v1/api-keys/{default_id}"),
        &first,
        None,
    )
    .await;
    assert_eq!(last.status, 409, "the last key: {}", last.body);
    assert_eq!(works(&api, &first).await, 200);
    for odd in [
        "key_01KSAMP1E00000000000000009",
        "nope",
        "sub_01KSAMP1E00000000000000000",
    ] {
        let reply = call(
            &api,
            "DELETE",
            &format!("/api/v1/api-keys/{odd}"),
            &first,
            None,
        )
        .await;
        assert_eq!(reply.status, 404, "{odd}");
    }
    let other = account(&api, "globex").await;
    let theirs = call(
        &api,
        "DELETE",
        &format!("/api/v1/api-keys/{default_id}"),
        &other,
        None,
    )
    .await;
    assert_eq!(theirs.status, 404, "another account's key");
    assert_eq!(
        vouched(&api, &other, &account_id).await,
        401,
        "a key of another account than vouched for"
    );
}

#[tokio::test]
async fn key_names_and_counts_are_bounded() {
    let api = api();
    let key = account(&api, "acme").await;
    for bad in [
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "   "}),
    ] {
        let reply = call(&api, "POST", "/api/v1/api-keys", &key, Some(bad.clone())).await;
        assert_eq!(reply.status, 422, "{bad}");
    }
    let extra = call(
        &api,
        "POST",
        "/api/v1/api-keys",
        &key,
        Some(json!({"name": "a", "admin": true})),
    )
    .await;
    assert_eq!(extra.status, 400, "{}", extra.body);
    for n in 1..20 {
        new_key(&api, &key, &format!("key {n}")).await;
    }
    let too_many = call(
        &api,
        "POST",
        "/api/v1/api-keys",
        &key,
        Some(json!({"name": "21st"})),
    )
    .await;
    assert_eq!(too_many.status, 409, "{}", too_many.body);
    let page = call(&api, "GET", "/api/v1/api-keys?limit=15", &key, None).await;
    assert_eq!(page.body["data"].as_array().unwrap().len(), 15);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = call(
        &api,
        "GET",
        &format!("/api/v1/api-keys?cursor={cursor}"),
        &key,
        None,
    )
    .await;
    assert_eq!(rest.body["data"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn the_admin_disables_and_enables_an_account() {
    let api = api();
    let created = call(
        &api,
        "POST",
        "/api/v1/accounts",
        ADMIN_KEY,
        Some(json!({"name": "acme"})),
    )
    .await;
    let key = created.body["api_key"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    let other = account(&api, "globex").await;
    let more = new_key(&api, &key, "second").await;
    let second = more["api_key"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/accounts/{id}");

    let by_account = call(&api, "PATCH", &path, &key, Some(json!({"disabled": true}))).await;
    assert_eq!(by_account.status, 401, "the admin only");
    let off = call(
        &api,
        "PATCH",
        &path,
        ADMIN_KEY,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(
        off.body,
        json!({"id": id, "name": "acme", "created_at": created.body["created_at"], "disabled": true})
    );
    assert_eq!(works(&api, &key).await, 401);
    assert_eq!(works(&api, &second).await, 401, "every key of it");
    assert_eq!(vouched(&api, &key, &id).await, 401);
    assert_eq!(works(&api, &other).await, 200, "not the others");
    let on = call(
        &api,
        "PATCH",
        &path,
        ADMIN_KEY,
        Some(json!({"disabled": false})),
    )
    .await;
    assert_eq!(on.body["disabled"], false);
    assert_eq!(works(&api, &key).await, 200);
    assert_eq!(works(&api, &second).await, 200);

    let unknown = call(
        &api,
        "PATCH",
        "/api/v1/accounts/acc_01KSAMP1E00000000000000009",
        ADMIN_KEY,
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(unknown.status, 404);
    for bad in [
        json!({}),
        json!({"disabled": "yes"}),
        json!({"disabled": true, "name": "x"}),
    ] {
        let reply = call(&api, "PATCH", &path, ADMIN_KEY, Some(bad.clone())).await;
        assert!(matches!(reply.status, 400 | 422), "{bad}: {}", reply.status);
    }
}
