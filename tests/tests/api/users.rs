//! Users and photo likes: each change with its event, field rules, pages.

use crate::common::api::{account, api, call};
use crate::support::*;
use serde_json::json;

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
