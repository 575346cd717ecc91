//! The hostile values, and every string field of every request body they go in.

use crate::common::api::{TestApi, account, call};
use serde_json::{Value, json};

/// Stands for the hostile value in a body before it is spliced in as raw JSON.
pub(super) const SLOT: &str = "\u{1}slot\u{1}";

/// A JSON string literal, as sent.
pub(super) struct Hostile {
    pub name: &'static str,
    pub literal: String,
    /// What a field that keeps it should read back (`None`: no text can hold it).
    pub text: Option<String>,
}

pub(super) fn hostile_values() -> Vec<Hostile> {
    let literal = |name, text: &str| Hostile {
        name,
        literal: serde_json::to_string(text).unwrap(),
        text: Some(text.to_owned()),
    };
    vec![
        literal("NUL", "a\u{0}b"),
        literal("control", "bell\u{7}ring"),
        literal("newline", "two\nlines"),
        literal("emoji", "party 🎉 👍🏽 ok"),
        literal("right-to-left override", "abc\u{202e}cba"),
        literal("overlong", &"x".repeat(100_000)),
        Hostile {
            name: "lone surrogate",
            literal: r#""a\ud800b""#.to_owned(),
            text: None,
        },
    ]
}

/// Where a hostile value goes, and which values the field keeps (the others are refused).
pub(super) struct Field {
    pub method: &'static str,
    pub path: String,
    pub admin: bool,
    /// A valid body with [`SLOT`] where the value goes.
    pub body: Value,
    /// Where it goes, for messages.
    pub pointer: &'static str,
    /// Where a kept value is read back from.
    pub read_back: ReadBack,
    pub keeps: &'static [&'static str],
}

/// Free text: Unicode kept exactly, but no control characters and nothing overlong.
const TEXT: &[&str] = &["emoji", "right-to-left override"];
/// Event payloads are the account's own data: any string JSON can hold, kept exactly.
const DATA: &[&str] = &[
    "NUL",
    "control",
    "newline",
    "emoji",
    "right-to-left override",
    "overlong",
];

pub(super) enum ReadBack {
    /// `GET` of what was created (the path and its id) or changed (the path).
    Get,
    /// The answer (there is no `GET`).
    Answer,
    /// `GET` of a list.
    List(&'static str),
    /// Passwords are never shown.
    Never,
}

pub(super) struct Seeded {
    pub key: String,
    pub user: String,
    pub subscription: String,
    pub event: String,
}

pub(super) async fn seed(api: &TestApi) -> Seeded {
    let key = account(api, "acme").await;
    let created = |path: &'static str, body: Value| {
        let key = key.clone();
        async move {
            let reply = call(api, "POST", path, &key, Some(body)).await;
            assert!(reply.status < 300, "{path}: {}", reply.body);
            reply.body["id"].as_str().unwrap().to_owned()
        }
    };
    let user = created(
        "/api/v1/users",
        json!({"username": "adam12", "password": "abc123"}),
    )
    .await;
    let subscription = created(
        "/api/v1/subscriptions",
        json!({"url": "https://hooks.example.com/", "event_types": ["*"]}),
    )
    .await;
    let event = created(
        "/api/v1/events",
        json!({"type": "order.received", "payload": {"n": 1}}),
    )
    .await;
    call(api, "POST", "/api/v1/photos/p1/likes", &key, None).await;
    Seeded {
        key,
        user,
        subscription,
        event,
    }
}

pub(super) fn fields(seeded: &Seeded) -> Vec<Field> {
    let field = |method, path: String, body: Value, pointer, keeps| Field {
        method,
        path,
        admin: false,
        body,
        pointer,
        read_back: if pointer.ends_with("password") {
            ReadBack::Never
        } else {
            ReadBack::Get
        },
        keeps,
    };
    let user = format!("/api/v1/users/{}", seeded.user);
    let subscription = format!("/api/v1/subscriptions/{}", seeded.subscription);
    let new_subscription = |pointer: &'static str, keeps| {
        let mut body = json!({"url": "https://hooks.example.com/h", "event_types": ["a.b"],
            "description": "d", "headers": {"x-team": "t"}});
        *body.pointer_mut(pointer).unwrap() = json!(SLOT);
        field("POST", "/api/v1/subscriptions".into(), body, pointer, keeps)
    };
    let changed_subscription = |pointer: &'static str, keeps| {
        let mut body = json!({"url": "https://hooks.example.com/h", "event_types": ["a.b"],
            "description": "d", "headers": {"x-team": "t"}});
        *body.pointer_mut(pointer).unwrap() = json!(SLOT);
        field("PATCH", subscription.clone(), body, pointer, keeps)
    };
    vec![
        field(
            "POST",
            "/api/v1/users".into(),
            json!({"username": SLOT, "password": "abc123"}),
            "/username",
            &[],
        ),
        field(
            "POST",
            "/api/v1/users".into(),
            json!({"username": "bob{n}", "password": SLOT}),
            "/password",
            TEXT,
        ),
        field(
            "PUT",
            user.clone(),
            json!({"username": SLOT}),
            "/username",
            &[],
        ),
        field("PUT", user, json!({"password": SLOT}), "/password", TEXT),
        Field {
            admin: true,
            read_back: ReadBack::Answer,
            ..field(
                "POST",
                "/api/v1/accounts".into(),
                json!({"name": SLOT}),
                "/name",
                TEXT,
            )
        },
        Field {
            read_back: ReadBack::List("/api/v1/api-keys"),
            ..field(
                "POST",
                "/api/v1/api-keys".into(),
                json!({"name": SLOT}),
                "/name",
                TEXT,
            )
        },
        new_subscription("/url", &[]),
        new_subscription("/event_types/0", &[]),
        new_subscription("/description", TEXT),
        new_subscription("/headers/x-team", &[]),
        changed_subscription("/url", &[]),
        changed_subscription("/event_types/0", &[]),
        changed_subscription("/description", TEXT),
        changed_subscription("/headers/x-team", &[]),
        field(
            "POST",
            "/api/v1/events".into(),
            json!({"type": SLOT, "payload": {}}),
            "/type",
            &[],
        ),
        field(
            "POST",
            "/api/v1/events".into(),
            json!({"type": "order.received", "payload": {"note": SLOT}}),
            "/payload/note",
            DATA,
        ),
        field(
            "POST",
            format!("/api/v1/events/{}/resend", seeded.event),
            json!({"subscription_id": SLOT}),
            "/subscription_id",
            &[],
        ),
        field(
            "POST",
            format!("{subscription}/replay"),
            json!({"since": SLOT}),
            "/since",
            &[],
        ),
        field(
            "POST",
            format!("{subscription}/replay"),
            json!({"since": "2026-01-01T00:00:00Z", "until": SLOT}),
            "/until",
            &[],
        ),
    ]
}
