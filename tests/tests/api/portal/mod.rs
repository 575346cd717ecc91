//! The portal with the in-memory store: links, sessions, CSRF, scoping, escaping. The pages'
//! behaviour in a real browser is `tests/browser/` (make test).

mod forms;
mod pages;
mod sessions;

use crate::common::api::{Reply, TestApi, call, request, send};
use serde_json::{Value, json};

pub(crate) const HOST: &str = "portal.example.com";

/// A one-time link's token, for the whole account or `body`'s scope.
pub(crate) async fn link(api: &TestApi, key: &str, body: Option<Value>) -> String {
    let reply = call_with_host(api, key, body.unwrap_or_else(|| json!({}))).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let url = reply.body["url"].as_str().unwrap();
    let prefix = format!("https://{HOST}/portal/login?token=");
    assert!(url.starts_with(&prefix), "{url}");
    url[prefix.len()..].to_owned()
}

pub(crate) async fn call_with_host(api: &TestApi, key: &str, body: Value) -> Reply {
    let auth = format!("Bearer {key}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("host", HOST),
    ];
    send(
        api,
        request(
            "POST",
            "/api/v1/portal/sessions",
            &headers,
            Some(body.to_string().into_bytes()),
        ),
    )
    .await
}

/// Opens a link: the session cookie (`name=value`).
pub(crate) async fn sign_in(api: &TestApi, token: &str) -> String {
    let reply = post_form(api, "/portal/login", None, &[("token", token)]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.headers["location"], "/portal/endpoints");
    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// A page, as a browser with `cookie` asks for it.
pub(crate) async fn get(api: &TestApi, path: &str, cookie: Option<&str>) -> Reply {
    let mut headers = vec![("host", HOST)];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    send(api, request("GET", path, &headers, None)).await
}

/// A form, as a browser with `cookie` posts it from the portal.
pub(crate) async fn post_form(
    api: &TestApi,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut headers = vec![
        ("host", HOST),
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", "https://portal.example.com"),
    ];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    send(
        api,
        request("POST", path, &headers, Some(body.into_bytes())),
    )
    .await
}

/// The text of an HTML reply.
pub(crate) fn text(reply: &Reply) -> &str {
    reply.body.as_str().unwrap_or_default()
}

/// The CSRF token a page's forms carry.
pub(crate) fn csrf(reply: &Reply) -> String {
    let page = text(reply);
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

/// A new subscription's id.
pub(crate) async fn subscription(api: &TestApi, key: &str, url: &str) -> String {
    let created = call(
        api,
        "POST",
        "/api/v1/subscriptions",
        key,
        Some(json!({"url": url, "event_types": ["order.*"]})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}
