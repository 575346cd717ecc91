//! The routes the functions serve, the routes template.yaml gives API Gateway, and the paths the
//! OpenAPI document describes are the same set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use devstack::template::{DEFAULT_ROUTE, Template};
use std::collections::BTreeSet;
use std::path::Path;

type RouteSet = BTreeSet<(String, String)>;

fn set(function: shared::http::Function) -> RouteSet {
    shared::http::routes::served_by(function)
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect()
}

fn template_routes(binary: &str) -> RouteSet {
    let template =
        Template::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
    template
        .http_routes()
        .unwrap()
        .into_iter()
        .filter(|r| r.binary == binary)
        .map(|r| (r.method, r.path))
        .collect()
}

#[test]
fn template_routes_each_path_to_the_function_that_serves_it() {
    let mut resources = set(resources::FUNCTION);
    resources.insert(("ANY".to_owned(), DEFAULT_ROUTE.to_owned()));
    assert_eq!(
        template_routes(resources::FUNCTION.binary()),
        resources,
        "resources also answers what no route matches (the API's $default route)"
    );
    let mut subscriptions = set(subscriptions::FUNCTION);
    let (method, path) = shared::portal::GATEWAY_ROUTE;
    subscriptions.insert((method.to_owned(), path.to_owned()));
    assert_eq!(
        template_routes(subscriptions::FUNCTION.binary()),
        subscriptions,
        "subscriptions also serves the portal's pages"
    );
    assert_eq!(resources::FUNCTION.binary(), "resources");
    assert_eq!(subscriptions::FUNCTION.binary(), "subscriptions");
    assert!(template_routes("fanout").is_empty() && template_routes("deliver").is_empty());
    assert!(set(resources::FUNCTION).is_disjoint(&set(subscriptions::FUNCTION)));
}

#[test]
fn openapi_describes_exactly_the_served_routes() {
    let document = shared::http::openapi::document();
    assert_eq!(document["openapi"], "3.1.0");
    let mut described = RouteSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, _) in item
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "parameters")
        {
            described.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let served: RouteSet = set(resources::FUNCTION)
        .union(&set(subscriptions::FUNCTION))
        .cloned()
        .collect();
    assert_eq!(described, served);
    assert_eq!(
        served.len(),
        shared::http::ROUTES.len(),
        "no route listed twice"
    );
}

fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(target) = map.get("$ref").and_then(serde_json::Value::as_str) {
                out.push(target);
            }
            map.values().for_each(|v| refs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_whole_every_reference_resolves_and_operation_ids_are_unique() {
    let document = shared::http::openapi::document();
    let mut found = Vec::new();
    refs(document, &mut found);
    assert!(found.len() > 50, "{}", found.len());
    for target in found {
        let pointer = target.strip_prefix('#').unwrap();
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{method} {path}: {id} twice");
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} documents no success"
            );
        }
    }
}

/// Issue 18: the document says exactly what the API accepts. The patterns and bounds of what is
/// validated by hand (event types, cursors, idempotency keys) come from the same constants.
#[test]
fn the_documents_bounds_are_the_apis() {
    use shared::domain::event_type::{EVENT_TYPE_PATTERN, MAX_LEN, is_event_type};
    let document = shared::http::openapi::document();
    let new_event = &document["components"]["schemas"]["NewEvent"]["properties"]["type"];
    assert_eq!(new_event["pattern"], EVENT_TYPE_PATTERN);
    assert_eq!(new_event["maxLength"], MAX_LEN);
    let listed = &document["paths"]["/api/v1/events"]["get"]["parameters"];
    let parameter = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]
            .clone()
    };
    assert_eq!(parameter("type")["pattern"], EVENT_TYPE_PATTERN);
    assert_eq!(parameter("cursor")["minLength"], 1);
    let longest = shared::model::encode_cursor(&"k".repeat(shared::model::MAX_CURSOR_KEY));
    assert_eq!(parameter("cursor")["maxLength"], longest.len());
    assert!(shared::model::decode_cursor(&longest).is_some());
    assert!(shared::model::decode_cursor(&format!("{longest}a")).is_none());
    assert!(is_event_type(&format!("a.{}", "b".repeat(MAX_LEN - 2))));
    let publish = &document["paths"]["/api/v1/events"]["post"]["parameters"][0];
    assert_eq!(publish["name"], "Idempotency-Key");
    assert_eq!(
        publish["schema"]["maxLength"],
        shared::api::IDEMPOTENCY_KEY_MAX
    );
}

/// Free text (names, descriptions, passwords): the document's pattern and lengths are the
/// API's rule (`shared::domain::text`).
#[test]
fn free_text_fields_are_documented_as_the_api_checks_them() {
    use shared::domain::text::{DESCRIPTION_LENGTHS, NAME_LENGTHS, PASSWORD_LENGTHS, PATTERN};
    let schemas = &shared::http::openapi::document()["components"]["schemas"];
    for (schema, field, lengths) in [
        ("NewAccount", "name", NAME_LENGTHS),
        ("NewApiKey", "name", NAME_LENGTHS),
        ("NewSubscription", "description", DESCRIPTION_LENGTHS),
        ("SubscriptionChanges", "description", DESCRIPTION_LENGTHS),
        ("NewUser", "password", PASSWORD_LENGTHS),
        ("UserChanges", "password", PASSWORD_LENGTHS),
    ] {
        let property = &schemas[schema]["properties"][field];
        let case = format!("{schema}.{field}: {property}");
        assert_eq!(property["pattern"], PATTERN, "{case}");
        assert_eq!(property["maxLength"], *lengths.end(), "{case}");
        let min = property["minLength"].as_u64().unwrap_or(0);
        assert_eq!(min, *lengths.start() as u64, "{case}");
    }
}
