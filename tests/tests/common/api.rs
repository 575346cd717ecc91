//! Calling the two HTTP functions in-process, with the in-memory store and a fixed DNS table.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;
use shared::adapters::memory::MemoryStore;
use shared::api::Api;
use shared::domain::target::TargetPolicy;
use shared::ports::delivery::DeliveryQueue;
use shared::ports::resolver::Resolver;
use std::collections::HashMap;
use std::net::IpAddr;

pub const ADMIN_KEY: &str = "admin-key-for-tests-0123456789abcdef";

/// DNS answers from a table.
pub struct FixedDns(pub HashMap<String, Vec<IpAddr>>);

impl Resolver for FixedDns {
    async fn resolve(&self, host: &str, _port: u16) -> Vec<IpAddr> {
        self.0.get(host).cloned().unwrap_or_default()
    }
}

pub type TestApi = Api<MemoryStore, FixedDns, shared::adapters::memory::MemoryQueue>;

pub fn api() -> TestApi {
    with_store(
        MemoryStore::new(),
        shared::adapters::memory::MemoryQueue::default(),
    )
}

/// The test API over any store, with the fixed DNS table and the admin key.
pub fn with_store<S, Q>(store: S, queue: Q) -> Api<S, FixedDns, Q> {
    let dns = [
        ("hooks.example.com", "93.184.215.14"),
        ("other.example.com", "151.101.1.69"),
        ("internal.example.com", "10.0.0.5"),
        ("metadata.example.com", "169.254.169.254"),
    ];
    Api {
        store,
        queue: Some(queue),
        resolver: FixedDns(
            dns.iter()
                .map(|(h, ip)| ((*h).to_owned(), vec![ip.parse().unwrap()]))
                .collect(),
        ),
        targets: TargetPolicy::default(),
        admin_key: shared::api::AdminKey::Known(ADMIN_KEY.to_owned()),
        key_uses: shared::domain::throttle::Throttle::new(shared::api::KEY_USE_EVERY),
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

/// A request as API Gateway hands it over: method, path with query, headers, body.
pub fn request(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://api.example.com{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let body = match body {
        None => Body::Empty,
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        },
    };
    let mut parameters: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        parameters
            .entry(k.to_owned())
            .or_default()
            .push(v.to_owned());
    }
    builder
        .body(body)
        .unwrap()
        .with_query_string_parameters(parameters)
}

/// Any API: in memory or on DynamoDB.
pub use shared::ports::Stores as AnyStore;

/// Sends a request to whichever function serves its path, as API Gateway would route it.
pub async fn send<S: AnyStore, R: Resolver, Q: DeliveryQueue>(
    api: &Api<S, R, Q>,
    request: Request,
) -> Reply {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let owner_is_resources = !matches!(
        shared::http::route(resources::FUNCTION, &method, &path),
        Err(shared::api::error::ApiError::NoRoute { .. })
    );
    let response = if owner_is_resources {
        resources::handle(api, request).await
    } else {
        subscriptions::handle(api, request).await
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::String(text.clone())),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// A JSON call with a bearer key.
pub async fn call<S: AnyStore, R: Resolver, Q: DeliveryQueue>(
    api: &Api<S, R, Q>,
    method: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Reply {
    let auth = format!("Bearer {key}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(
        api,
        request(
            method,
            path,
            &headers,
            body.map(|b| b.to_string().into_bytes()),
        ),
    )
    .await
}

/// A new account's API key.
pub async fn account<S: AnyStore, R: Resolver, Q: DeliveryQueue>(
    api: &Api<S, R, Q>,
    name: &str,
) -> String {
    let reply = call(
        api,
        "POST",
        "/api/v1/accounts",
        ADMIN_KEY,
        Some(serde_json::json!({"name": name})),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["api_key"].as_str().unwrap().to_owned()
}

/// `authorizer`, `resources` and `subscriptions` as in-process functions over one `api`, for the gateway and
/// the bridge.
pub fn http_functions<S, R, Q>(api: std::sync::Arc<Api<S, R, Q>>) -> devstack::invoke::InProcess
where
    S: shared::ports::Stores + 'static,
    R: Resolver + 'static,
    Q: DeliveryQueue + 'static,
{
    let for_resources = std::sync::Arc::clone(&api);
    let for_authorizer = std::sync::Arc::clone(&api);
    devstack::invoke::InProcess::new()
        .with_handler("authorizer", move |event| {
            let api = std::sync::Arc::clone(&for_authorizer);
            async move {
                let admin_key = api.admin_key.get().await.ok().flatten().unwrap_or_default();
                authorizer::handle(&api.store, admin_key, event).await
            }
        })
        .with_http_handler("resources", move |request| {
            let api = std::sync::Arc::clone(&for_resources);
            async move { resources::handle(&api, request).await }
        })
        .with_http_handler("subscriptions", move |request| {
            let api = std::sync::Arc::clone(&api);
            async move { subscriptions::handle(&api, request).await }
        })
}

/// Every route that names a resource by id, with a body where it needs one, for the given ids.
pub fn id_routes(
    user: &str,
    photo: &str,
    subscription: &str,
    event: &str,
) -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("GET", format!("/api/v1/users/{user}"), None),
        (
            "PUT",
            format!("/api/v1/users/{user}"),
            Some(serde_json::json!({"username": "taken"})),
        ),
        ("DELETE", format!("/api/v1/users/{user}"), None),
        ("GET", format!("/api/v1/photos/{photo}"), None),
        ("GET", format!("/api/v1/subscriptions/{subscription}"), None),
        (
            "PATCH",
            format!("/api/v1/subscriptions/{subscription}"),
            Some(serde_json::json!({"active": false})),
        ),
        (
            "DELETE",
            format!("/api/v1/subscriptions/{subscription}"),
            None,
        ),
        (
            "GET",
            format!("/api/v1/subscriptions/{subscription}/secret"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/subscriptions/{subscription}/secret/rotate"),
            None,
        ),
        (
            "POST",
            format!("/api/v1/subscriptions/{subscription}/test"),
            None,
        ),
        ("GET", format!("/api/v1/events/{event}"), None),
    ]
}
