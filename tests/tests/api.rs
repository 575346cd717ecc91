//! Handler tests: both HTTP functions with the in-memory store, every route, status and rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::api::{ADMIN_KEY, TestApi, account, api, call, request, send};
use serde_json::{Value, json};

fn event_types(api: &TestApi) -> Vec<String> {
    api.store
        .events()
        .iter()
        .map(|e| e.event_type.clone())
        .collect()
}

fn assert_problem(reply: &common::api::Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    for field in ["type", "title", "status", "detail"] {
        assert!(
            reply.body.get(field).is_some(),
            "problem without {field}: {}",
            reply.body
        );
    }
    assert_eq!(reply.body["status"], status);
}

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
async fn users_lifecycle_emits_one_event_per_change() {
    let api = api();
    let key = account(&api, "acme").await;
    let created = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("usr_"));
    assert_eq!(created.body["username"], "adam12");
    assert!(created.body.get("password").is_none() && created.body.get("password_hash").is_none());
    assert_eq!(event_types(&api), ["user.created"]);
    let event = &api.store.events()[0];
    assert_eq!(
        event.data, created.body,
        "the payload mirrors the API representation"
    );

    let duplicate = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "ADAM12", "password": "abc123"})),
    )
    .await;
    assert_problem(&duplicate, 409);
    assert_eq!(api.store.events().len(), 1, "a failed write emits nothing");

    let fetched = call(&api, "GET", &format!("/api/v1/users/{id}"), &key, None).await;
    assert_eq!(fetched.body, created.body);

    let updated = call(
        &api,
        "PUT",
        &format!("/api/v1/users/{id}"),
        &key,
        Some(json!({"username": "adam13"})),
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body["username"], "adam13");
    let renamed_back = call(
        &api,
        "PUT",
        &format!("/api/v1/users/{id}"),
        &key,
        Some(json!({"password": "secret99"})),
    )
    .await;
    assert_eq!(renamed_back.status, 200);
    assert_eq!(
        event_types(&api),
        ["user.created", "user.updated", "user.updated"]
    );
    // The old name is free again.
    let reuse = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    assert_eq!(reuse.status, 201);

    let deleted = call(&api, "DELETE", &format!("/api/v1/users/{id}"), &key, None).await;
    assert_eq!(deleted.status, 204);
    let last = api.store.events().into_iter().last().unwrap();
    assert_eq!(last.event_type, "user.deleted");
    assert_eq!(
        last.data["username"], "adam13",
        "user.deleted carries the last representation"
    );
    assert_problem(
        &call(&api, "GET", &format!("/api/v1/users/{id}"), &key, None).await,
        404,
    );
    assert_problem(
        &call(&api, "DELETE", &format!("/api/v1/users/{id}"), &key, None).await,
        404,
    );
}

#[tokio::test]
async fn user_rules_are_enforced_field_by_field() {
    let api = api();
    let key = account(&api, "acme").await;
    for (body, fields) in [
        (
            json!({"username": "ab", "password": "abc123"}),
            vec!["username"],
        ),
        (
            json!({"username": "a".repeat(51), "password": "abc123"}),
            vec!["username"],
        ),
        (
            json!({"username": "bad name!", "password": "abc123"}),
            vec!["username"],
        ),
        (
            json!({"username": "adam12", "password": "12345"}),
            vec!["password"],
        ),
        (
            json!({"username": "adam12", "password": "x".repeat(129)}),
            vec!["password"],
        ),
        (
            json!({"username": "no", "password": "no"}),
            vec!["username", "password"],
        ),
    ] {
        let reply = call(&api, "POST", "/api/v1/users", &key, Some(body.clone())).await;
        assert_problem(&reply, 422);
        let named: Vec<&str> = reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, fields, "{body}");
    }
    assert_problem(
        &call(
            &api,
            "POST",
            "/api/v1/users",
            &key,
            Some(json!({"username": "adam12"})),
        )
        .await,
        400,
    );
    assert_problem(
        &call(
            &api,
            "POST",
            "/api/v1/users",
            &key,
            Some(json!({"username": 5, "password": "abc123"})),
        )
        .await,
        400,
    );
    let unknown = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123", "admin": true})),
    )
    .await;
    assert_problem(&unknown, 400);
    assert!(
        unknown.body["detail"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
    let user = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    let id = user.body["id"].as_str().unwrap();
    assert_problem(
        &call(
            &api,
            "PUT",
            &format!("/api/v1/users/{id}"),
            &key,
            Some(json!({})),
        )
        .await,
        422,
    );
    assert!(
        api.store.events().len() == 1,
        "only the successful create emitted"
    );
}

#[tokio::test]
async fn users_are_listed_in_pages() {
    let api = api();
    let key = account(&api, "acme").await;
    for i in 0..5 {
        let reply = call(
            &api,
            "POST",
            "/api/v1/users",
            &key,
            Some(json!({"username": format!("user{i}"), "password": "abc123"})),
        )
        .await;
        assert_eq!(reply.status, 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/v1/users?limit=2".to_owned(),
            Some(c) => format!("/api/v1/users?limit=2&cursor={c}"),
        };
        let page = call(&api, "GET", &path, &key, None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let data = page.body["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(
            data.iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["user0", "user1", "user2", "user3", "user4"]);
    for bad in ["limit=0", "limit=101", "limit=ten"] {
        assert_problem(
            &call(&api, "GET", &format!("/api/v1/users?{bad}"), &key, None).await,
            422,
        );
    }
    assert_problem(
        &call(&api, "GET", "/api/v1/users?cursor=%%%", &key, None).await,
        400,
    );
}

#[tokio::test]
async fn likes_count_up_and_emit_photo_liked() {
    let api = api();
    let key = account(&api, "acme").await;
    assert_problem(
        &call(&api, "GET", "/api/v1/photos/p1", &key, None).await,
        404,
    );
    for expected in 1..=3 {
        let like = call(&api, "POST", "/api/v1/photos/p1/likes", &key, None).await;
        assert_eq!(like.status, 202);
        assert_eq!(like.body["likes"], expected);
        assert_eq!(like.body["photo_id"], "p1");
        assert!(like.body["event_id"].as_str().unwrap().starts_with("evt_"));
    }
    assert_eq!(
        call(&api, "GET", "/api/v1/photos/p1", &key, None)
            .await
            .body,
        json!({"photo_id": "p1", "likes": 3})
    );
    let events = api.store.events();
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].event_type, "photo.liked");
    assert_eq!(events[2].data["likes"], 3);
    assert!(events[2].data["liked_at"].is_string());
    assert_problem(
        &call(&api, "POST", "/api/v1/photos/bad%20id/likes", &key, None).await,
        422,
    );
}

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
        &id,
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
    assert_eq!(test_event.subscription_id.as_deref(), Some(id.as_str()));

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

async fn api_account(api: &TestApi, key: &str) -> String {
    match api
        .authenticate(Some(&format!("Bearer {key}")))
        .await
        .unwrap()
    {
        shared::api::Caller::Account(id) => id,
        shared::api::Caller::Admin => panic!("not an account key"),
    }
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

#[tokio::test]
async fn custom_events_with_idempotency_keys() {
    let api = api();
    let key = account(&api, "acme").await;
    let auth = format!("Bearer {key}");
    let publish = |idempotency: Option<&'static str>| {
        let mut headers = vec![
            ("authorization", auth.clone()),
            ("content-type", "application/json".to_owned()),
        ];
        if let Some(k) = idempotency {
            headers.push(("idempotency-key", k.to_owned()));
        }
        let headers: Vec<(&str, String)> = headers;
        let body = json!({"type": "order.received", "payload": {"order": 7}})
            .to_string()
            .into_bytes();
        let api = &api;
        async move {
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(api, request("POST", "/api/v1/events", &refs, Some(body))).await
        }
    };
    let first = publish(Some("order-7")).await;
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(first.body["type"], "order.received");
    let again = publish(Some("order-7")).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = publish(None).await;
    assert_ne!(other.body["id"], first.body["id"]);
    assert_eq!(api.store.events().len(), 2, "the replay created nothing");

    let id = first.body["id"].as_str().unwrap();
    let fetched = call(&api, "GET", &format!("/api/v1/events/{id}"), &key, None).await;
    assert_eq!(fetched.body["data"], json!({"order": 7}));
    assert!(fetched.body["deliveries"].is_array());

    call(&api, "POST", "/api/v1/photos/p/likes", &key, None).await;
    let listed = call(&api, "GET", "/api/v1/events", &key, None).await;
    let types: Vec<&str> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["photo.liked", "order.received", "order.received"],
        "newest first"
    );
    let only = call(&api, "GET", "/api/v1/events?type=photo.liked", &key, None).await;
    assert_eq!(only.body["data"].as_array().unwrap().len(), 1);

    for body in [
        json!({"type": "Order.Received", "payload": {}}),
        json!({"type": "webhook.test", "payload": {}}),
        json!({"type": "order.received", "payload": [1]}),
    ] {
        assert_problem(
            &call(&api, "POST", "/api/v1/events", &key, Some(body)).await,
            422,
        );
    }
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
