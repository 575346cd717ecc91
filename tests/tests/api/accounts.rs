//! Accounts and keys, health and the OpenAPI document, and protocol errors as problem+json.

use crate::common;
use crate::common::api::{ADMIN_KEY, account, api, call, request, send};
use crate::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn accounts_need_the_admin_key_and_show_their_key_once() {
    let api = api();
    let reply = call(
        &api,
        "POST",
        "/api/v1/accounts",
        ADMIN_KEY,
        Some(json!({"name": "acme"})),
    )
    .await;
    assert_eq!(reply.status, 201);
    assert!(reply.body["id"].as_str().unwrap().starts_with("acc_"));
    assert_eq!(reply.body["name"], "acme");
    let key = reply.body["api_key"].as_str().unwrap();
    assert!(key.starts_with("rhk_"));
    // An account key cannot create accounts; nor can nobody.
    assert_problem(
        &call(
            &api,
            "POST",
            "/api/v1/accounts",
            key,
            Some(json!({"name": "x"})),
        )
        .await,
        401,
    );
    let anonymous = send(
        &api,
        request(
            "POST",
            "/api/v1/accounts",
            &[("content-type", "application/json")],
            Some(b"{}".to_vec()),
        ),
    )
    .await;
    assert_problem(&anonymous, 401);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
    // The admin key is not an account key.
    assert_problem(
        &call(&api, "GET", "/api/v1/users", ADMIN_KEY, None).await,
        401,
    );
    assert_problem(
        &call(
            &api,
            "POST",
            "/api/v1/accounts",
            ADMIN_KEY,
            Some(json!({"name": ""})),
        )
        .await,
        422,
    );
}

#[tokio::test]
async fn another_accounts_ids_answer_404_on_every_route() {
    let api = api();
    let owner = account(&api, "owner").await;
    let stranger = account(&api, "stranger").await;
    let user = call(
        &api,
        "POST",
        "/api/v1/users",
        &owner,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    let user = user.body["id"].as_str().unwrap().to_owned();
    call(&api, "POST", "/api/v1/photos/p1/likes", &owner, None).await;
    let sub = call(
        &api,
        "POST",
        "/api/v1/subscriptions",
        &owner,
        Some(json!({"url": "https://hooks.example.com/", "event_types": ["*"]})),
    )
    .await;
    let sub = sub.body["id"].as_str().unwrap().to_owned();
    let event = call(
        &api,
        "POST",
        "/api/v1/events",
        &owner,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    let event = event.body["id"].as_str().unwrap().to_owned();
    let events_before = api.store.events().len();
    for (method, path, body) in common::api::id_routes(&user, "p1", &sub, &event) {
        let reply = call(&api, method, &path, &stranger, body).await;
        assert_problem(&reply, 404);
    }
    assert_eq!(
        api.store.events().len(),
        events_before,
        "nothing was emitted for the stranger"
    );
    for path in ["/api/v1/users", "/api/v1/subscriptions", "/api/v1/events"] {
        let listed = call(&api, "GET", path, &stranger, None).await;
        assert_eq!(listed.body["data"], json!([]), "{path}");
    }
    assert_eq!(
        call(&api, "GET", &format!("/api/v1/users/{user}"), &owner, None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn protocol_errors_are_problem_json() {
    let api = api();
    let key = account(&api, "acme").await;
    let auth = format!("Bearer {key}");
    let users = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let api = &api;
        async move {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(api, request("POST", "/api/v1/users", &refs, Some(body))).await
        }
    };
    let valid = br#"{"username":"adam12","password":"abc123"}"#.to_vec();
    assert_problem(
        &users(vec![("authorization", auth.clone())], valid.clone()).await,
        415,
    );
    assert_problem(
        &users(
            vec![
                ("authorization", auth.clone()),
                ("content-type", "text/plain".into()),
            ],
            valid.clone(),
        )
        .await,
        415,
    );
    let json_ct = || {
        vec![
            ("authorization", auth.clone()),
            ("content-type", "application/json; charset=utf-8".to_owned()),
        ]
    };
    assert_eq!(
        users(json_ct(), valid).await.status,
        201,
        "charset parameter accepted"
    );
    assert_problem(&users(json_ct(), b"{not json".to_vec()).await, 400);
    assert_problem(&users(json_ct(), vec![0xff, 0xfe, b'{']).await, 400);
    assert_problem(&users(json_ct(), vec![b' '; 300 * 1024]).await, 413);
    assert_problem(&users(json_ct(), Vec::new()).await, 400);
    let method = call(&api, "PATCH", "/api/v1/users", &key, None).await;
    assert_problem(&method, 405);
    assert_eq!(method.headers["allow"], "POST, GET");
    assert_problem(&call(&api, "GET", "/api/v1/nothing", &key, None).await, 404);
    assert_problem(
        &call(&api, "GET", "/api/v1/users", "wrong", None).await,
        401,
    );
    let no_auth = send(&api, request("GET", "/api/v1/users", &[], None)).await;
    assert_problem(&no_auth, 401);
    let basic = send(
        &api,
        request(
            "GET",
            "/api/v1/users",
            &[("authorization", "Basic YTpi")],
            None,
        ),
    )
    .await;
    assert_problem(&basic, 401);
}

#[tokio::test]
async fn health_and_openapi_need_no_key() {
    let api = api();
    let health = send(&api, request("GET", "/api/v1/health", &[], None)).await;
    assert_eq!(health.status, 200);
    let openapi = send(&api, request("GET", "/api/v1/openapi.json", &[], None)).await;
    assert_eq!(openapi.status, 200);
    assert_eq!(openapi.body["openapi"], "3.1.0");
    let _: &Value = &openapi.body["paths"]["/api/v1/users"]["post"];
}
