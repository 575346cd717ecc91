//! The routes the functions serve, the routes template.yaml gives API Gateway, and the paths the
//! OpenAPI document describes are the same set.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use devstack::template::Template;
use std::collections::BTreeSet;
use std::path::Path;

type RouteSet = BTreeSet<(String, String)>;

fn set(routes: shared::http::Routes) -> RouteSet {
    routes
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
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
    assert_eq!(template_routes("resources"), set(resources::ROUTES));
    assert_eq!(template_routes("subscriptions"), set(subscriptions::ROUTES));
    assert!(template_routes("fanout").is_empty() && template_routes("deliver").is_empty());
    assert!(set(resources::ROUTES).is_disjoint(&set(subscriptions::ROUTES)));
}

#[test]
fn openapi_describes_exactly_the_served_routes() {
    let document: serde_json::Value = serde_json::from_str(subscriptions::OPENAPI).unwrap();
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
    let served: RouteSet = set(resources::ROUTES)
        .union(&set(subscriptions::ROUTES))
        .cloned()
        .collect();
    assert_eq!(described, served);
}
