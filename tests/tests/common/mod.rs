//! Shared set-up for the tests that run against the local stack (`make test` starts it and
//! exports its `AWS_ENDPOINT_URL_*` variables).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use devstack::provision::{Clients, Options, Stack, provision};
use devstack::template::Template;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A fresh copy of every table and queue of `template.yaml`, under a prefix of its own, so
/// tests run in parallel without seeing each other's data.
pub async fn fresh_stack(test: &str, parameters: &[(&str, &str)]) -> (Clients, Stack) {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok()
            && std::env::var("AWS_ENDPOINT_URL_SQS").is_ok(),
        "these tests need the local stack: run `make test`, or `local/stack.sh up NAME` and export .local/run/NAME/stack.env"
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let prefix = format!(
        "{test}-{}-{}-",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let template =
        Template::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
    let clients = Clients::from_env().await;
    let options = Options {
        prefix,
        parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    };
    let stack = provision(&template, &clients, &options).await.unwrap();
    (clients, stack)
}

/// Polls `check` every 50 ms until it yields a value, failing the test after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
pub mod api;
pub mod receiver;
