//! Every change writes exactly one event in its transaction; a failed change writes none;
//! concurrent likes, and concurrent creates of one username.

use crate::common::api::{account, call};
use crate::support::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_change_writes_exactly_one_event_and_failures_write_none() {
    let (clients, stack, api) = dynamo_api("outbox-users").await;
    let key = account(&api, "acme").await;
    let acc = account_id(&api, &key).await;
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
    let events = events_of(&clients, &stack, &acc).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "user.created");
    assert_eq!(events[0].data, created.body);

    // Failures write nothing: a taken username, a change to a missing user, bad input.
    assert_eq!(
        call(
            &api,
            "POST",
            "/api/v1/users",
            &key,
            Some(json!({"username": "Adam12", "password": "abc123"}))
        )
        .await
        .status,
        409
    );
    assert_eq!(
        call(
            &api,
            "PUT",
            "/api/v1/users/usr_missing",
            &key,
            Some(json!({"password": "abcdef"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        call(
            &api,
            "POST",
            "/api/v1/users",
            &key,
            Some(json!({"username": "x", "password": "abc123"}))
        )
        .await
        .status,
        422
    );
    assert_eq!(events_of(&clients, &stack, &acc).await.len(), 1);

    let second = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "eve99", "password": "abc123"})),
    )
    .await;
    assert_eq!(second.status, 201);
    let taken = call(
        &api,
        "PUT",
        &format!("/api/v1/users/{id}"),
        &key,
        Some(json!({"username": "EVE99"})),
    )
    .await;
    assert_eq!(
        taken.status, 409,
        "renaming onto a taken name fails as a whole"
    );
    assert_eq!(events_of(&clients, &stack, &acc).await.len(), 2);

    let updated = call(
        &api,
        "PUT",
        &format!("/api/v1/users/{id}"),
        &key,
        Some(json!({"username": "adam13"})),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let reuse = call(
        &api,
        "POST",
        "/api/v1/users",
        &key,
        Some(json!({"username": "adam12", "password": "abc123"})),
    )
    .await;
    assert_eq!(
        reuse.status, 201,
        "the old name was released in the same transaction"
    );
    assert_eq!(
        call(&api, "DELETE", &format!("/api/v1/users/{id}"), &key, None)
            .await
            .status,
        204
    );
    assert_eq!(
        call(&api, "DELETE", &format!("/api/v1/users/{id}"), &key, None)
            .await
            .status,
        404
    );

    let types: Vec<String> = events_of(&clients, &stack, &acc)
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "user.created",
            "user.created",
            "user.updated",
            "user.created",
            "user.deleted"
        ]
    );
    let deleted = events_of(&clients, &stack, &acc).await.pop().unwrap();
    assert_eq!(deleted.data["username"], "adam13");

    let page = call(&api, "GET", "/api/v1/users?limit=1", &key, None).await;
    assert_eq!(page.body["data"].as_array().unwrap().len(), 1);
    let next = page.body["next_cursor"].as_str().unwrap();
    let rest = call(
        &api,
        "GET",
        &format!("/api/v1/users?limit=1&cursor={next}"),
        &key,
        None,
    )
    .await;
    assert_eq!(rest.status, 200);
    assert_ne!(rest.body["data"][0]["id"], page.body["data"][0]["id"]);
    assert!(rest.body["next_cursor"].is_null());
}

/// Likes sent at once to one photo (issue 18: 50).
const LIKES: u64 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_likes_each_get_their_own_count_and_event() {
    let (clients, stack, api) = dynamo_api("outbox-likes").await;
    let key = account(&api, "acme").await;
    let acc = account_id(&api, &key).await;
    let api = std::sync::Arc::new(api);
    let mut tasks = Vec::new();
    for _ in 0..LIKES {
        let (api, key) = (std::sync::Arc::clone(&api), key.clone());
        tasks.push(tokio::spawn(async move {
            call(&api, "POST", "/api/v1/photos/p1/likes", &key, None).await
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 202, "{}", reply.body);
        counts.push(reply.body["likes"].as_u64().unwrap());
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=LIKES).collect::<Vec<u64>>(),
        "every like saw its own count"
    );
    assert_eq!(
        call(&api, "GET", "/api/v1/photos/p1", &key, None)
            .await
            .body,
        json!({"photo_id": "p1", "likes": LIKES})
    );
    let mut liked: Vec<u64> = events_of(&clients, &stack, &acc)
        .await
        .iter()
        .map(|e| e.data["likes"].as_u64().unwrap())
        .collect();
    liked.sort_unstable();
    assert_eq!(
        liked,
        (1..=LIKES).collect::<Vec<u64>>(),
        "one photo.liked per like, with the count it made"
    );
}

/// Issue 18: 20 creates of one username at once make one user (one 201, nineteen 409s) and one
/// `user.created` event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_username_make_one_user_and_one_event() {
    let (clients, stack, api) = dynamo_api("outbox-usernames").await;
    let key = account(&api, "acme").await;
    let acc = account_id(&api, &key).await;
    let api = std::sync::Arc::new(api);
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (api, key) = (std::sync::Arc::clone(&api), key.clone());
        tasks.push(tokio::spawn(async move {
            let user = json!({"username": "taken", "password": format!("secret-{n}")});
            call(&api, "POST", "/api/v1/users", &key, Some(user)).await
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        if reply.status == 409 {
            assert_eq!(reply.headers["content-type"], "application/problem+json");
        }
        statuses.push(reply.status);
    }
    statuses.sort_unstable();
    let mut expected = vec![201];
    expected.extend([409; 19]);
    assert_eq!(statuses, expected);
    let listed = call(&api, "GET", "/api/v1/users", &key, None).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    let events = events_of(&clients, &stack, &acc).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "user.created");
}
