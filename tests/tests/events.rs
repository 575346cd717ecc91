//! Every sample event in events/ (the files users pass to `sam local invoke -e` and
//! `cargo lambda invoke --data-file`) goes through its function's real handler, wired the way its
//! `main.rs` wires it (configuration from the environment `template.yaml` gives that function),
//! against the local stack, and must answer what tests/sample-events.json expects. So none can
//! rot. The folder names the function: events/<function>/<case>.json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::receiver::Receiver;
use devstack::invoke::{InProcess, Invoker};
use devstack::provision::{Clients, Stack};
use devstack::samples;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The environment `template.yaml` gives `function`, plus the two local-development settings
/// `make dev` adds (deliveries to loopback receivers).
fn environment(stack: &Stack, function: &str) -> HashMap<String, String> {
    let definition = stack
        .template
        .functions()
        .unwrap()
        .into_iter()
        .find(|f| f.binary == function)
        .unwrap_or_else(|| panic!("no function builds the binary {function}"));
    let mut env: HashMap<String, String> = stack
        .function_environment(&definition)
        .unwrap()
        .into_iter()
        .collect();
    env.insert("ALLOW_HTTP_TARGETS".into(), "true".into());
    env.insert("ALLOWED_TARGET_CIDRS".into(), "127.0.0.0/8,::1/128".into());
    env
}

/// The functions as their `main.rs` builds them, from their configuration.
async fn functions(stack: &Stack) -> InProcess {
    use shared::wiring::config::{ApiConfig, AuthorizerConfig, DeliverConfig, FanoutConfig};
    let authorizer = Arc::new(
        shared::wiring::aws::authorizer(
            AuthorizerConfig::load(&environment(stack, "authorizer")).unwrap(),
        )
        .await
        .unwrap(),
    );
    let resources = Arc::new(
        shared::wiring::aws::api(ApiConfig::load(&environment(stack, "resources")).unwrap())
            .await
            .unwrap(),
    );
    let subscriptions = Arc::new(
        shared::wiring::aws::api(ApiConfig::load(&environment(stack, "subscriptions")).unwrap())
            .await
            .unwrap(),
    );
    let fanout = Arc::new(
        shared::wiring::aws::fanout(FanoutConfig::load(&environment(stack, "fanout")).unwrap())
            .await,
    );
    let pipeline = Arc::new(
        shared::wiring::aws::pipeline(DeliverConfig::load(&environment(stack, "deliver")).unwrap())
            .await
            .unwrap(),
    );
    let sampler = Arc::new(
        shared::wiring::samples::store(
            shared::wiring::samples::SamplesConfig::load(&environment(stack, "samples")).unwrap(),
        )
        .await,
    );
    InProcess::new()
        .with_handler("samples", move |event| {
            let store = Arc::clone(&sampler);
            async move { ::samples::handle(&*store, event).await }
        })
        .with_handler("authorizer", move |event| {
            let authorizer = Arc::clone(&authorizer);
            async move { authorizer::handle(&authorizer.0, &authorizer.1, event).await }
        })
        .with_http_handler("resources", move |request| {
            let api = Arc::clone(&resources);
            async move { resources::handle(&api, request).await }
        })
        .with_http_handler("subscriptions", move |request| {
            let api = Arc::clone(&subscriptions);
            async move { subscriptions::handle(&api, request).await }
        })
        .with_handler("fanout", move |event| {
            let fanout = Arc::clone(&fanout);
            async move { fanout::handle_any(&fanout.0, &fanout.1, &fanout.2, event).await }
        })
        .with_handler("deliver", move |event| {
            let pipeline = Arc::clone(&pipeline);
            async move { deliver::handle(&pipeline, event).await }
        })
}

/// `events/<function>/<case>.json` → its JSON, for every file.
fn sample_files() -> BTreeMap<String, Value> {
    let mut files = BTreeMap::new();
    for folder in std::fs::read_dir(root().join("events")).unwrap() {
        let folder = folder.unwrap().path();
        // events/env.json is `sam local invoke --env-vars`, not an event.
        if !folder.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            let relative = file
                .strip_prefix(root().join("events"))
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let json = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
                .unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"));
            files.insert(relative, json);
        }
    }
    files
}

/// Takes every message off the delivery queue, returning their bodies.
async fn drain(clients: &Clients, queue_url: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    loop {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        for message in messages {
            bodies.push(serde_json::from_str(message.body.as_deref().unwrap()).unwrap());
            clients
                .sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_event_answers_as_expected_against_the_local_stack() {
    let (clients, stack) =
        common::fresh_stack("samples", &[("AdminApiKeySecret", samples::ADMIN_KEY)]).await;
    let queue_url = stack.queue("DeliveryQueue").unwrap().url.clone();
    let receiver = Receiver::start().await;
    let receiver_url = receiver.url("/webhook");
    let store = samples::store(&clients, &stack).unwrap();
    let invoker = functions(&stack).await;

    let expected: BTreeMap<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/sample-events.json")).unwrap(),
    )
    .unwrap();
    let files = sample_files();
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "tests/sample-events.json must list exactly the files in events/"
    );
    for function in [
        "authorizer",
        "resources",
        "subscriptions",
        "fanout",
        "deliver",
    ] {
        assert!(
            files.keys().any(|f| f.starts_with(&format!("{function}/"))),
            "no sample event for {function}"
        );
    }

    for (file, payload) in files {
        samples::seed(&store, &receiver_url).await.unwrap();
        drain(&clients, &queue_url).await;
        let function = file.split('/').next().unwrap();
        let response = invoker
            .invoke(function, payload.clone())
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let expect = &expected[&file];
        if let Some(authorized) = expect.get("authorized") {
            assert_eq!(response["isAuthorized"], *authorized, "{file}: {response}");
            assert_eq!(
                response["context"].get("caller"),
                expect.get("caller"),
                "{file}: {response}"
            );
            continue;
        }
        if let Some(status) = expect.get("status") {
            assert_eq!(
                response["statusCode"], *status,
                "{file}: {}",
                response["body"]
            );
            if let Some(authorization) = payload["headers"].get("authorization") {
                let key = authorization
                    .as_str()
                    .unwrap()
                    .trim_start_matches("Bearer ");
                assert!(
                    key == samples::API_KEY || key == samples::ADMIN_KEY,
                    "{file} must use the sample keys of local/src/samples.rs"
                );
                // What API Gateway's authorizer would have vouched for, for that key.
                let vouched = &payload["requestContext"]["authorizer"]["lambda"];
                let caller = if key == samples::ADMIN_KEY {
                    serde_json::json!({"caller": "admin"})
                } else {
                    serde_json::json!({"caller": "account", "account_id": samples::ACCOUNT_ID})
                };
                assert_eq!(
                    *vouched, caller,
                    "{file}: the authorizer context of its key"
                );
            }
            continue;
        }
        if let Some(answer) = expect.get("answer").and_then(Value::as_object) {
            for (name, value) in answer {
                assert_eq!(response[name], *value, "{file}: {response}");
            }
            continue;
        }
        assert_eq!(
            response["batchItemFailures"],
            serde_json::json!([]),
            "{file}: every record handled"
        );
        if let Some(count) = expect.get("enqueued") {
            let queued = drain(&clients, &queue_url).await;
            assert_eq!(queued.len() as u64, count.as_u64().unwrap(), "{file}");
            assert_eq!(queued[0]["event_id"], samples::EVENT_ID, "{file}");
            assert_eq!(
                queued[0]["targets"][0]["subscription_id"],
                samples::SUBSCRIPTION_ID,
                "{file}"
            );
        }
        if let Some(count) = expect.get("received") {
            let received = receiver.received("/webhook");
            assert_eq!(received.len() as u64, count.as_u64().unwrap(), "{file}");
            let request = &received[0];
            assert_eq!(request.headers["webhook-id"], samples::EVENT_ID);
            shared::domain::signature::verify(
                samples::WEBHOOK_SECRET,
                |name| request.headers.get(name).map(String::as_str),
                &request.body,
                chrono::Utc::now().timestamp(),
            )
            .unwrap_or_else(|e| panic!("{file}: the delivery does not verify: {e}"));
        }
    }
}
