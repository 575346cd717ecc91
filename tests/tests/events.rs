//! Every sample event in events/ (the files users pass to `sam local invoke -e` and
//! `cargo lambda invoke --data-file`) goes through its function's real handler, so none can rot.
//! The folder names the function: events/<function>/<case>.json.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use devstack::invoke::{InProcess, Invoker};
use std::path::Path;
use std::sync::Arc;

fn all_functions() -> InProcess {
    use shared::adapters::memory::{MemoryQueue, MemoryStore, RecordingSender};
    let store = Arc::new(MemoryStore::new());
    let queue = Arc::new(MemoryQueue::default());
    let pipeline = Arc::new(shared::delivery::Pipeline {
        store: MemoryStore::new(),
        queue: MemoryQueue::default(),
        sender: RecordingSender::answering(200),
        resolver: common::api::api().resolver,
        settings: shared::delivery::DeliverySettings {
            schedule: shared::domain::retry::RetrySchedule::default(),
            targets: shared::domain::target::TargetPolicy::default(),
            disable_after: std::time::Duration::from_secs(3600),
        },
    });
    common::api::http_functions(Arc::new(common::api::api()))
        .with_handler("fanout", move |event| {
            let (store, queue) = (Arc::clone(&store), Arc::clone(&queue));
            async move { fanout::handle(&*store, &*queue, event).await }
        })
        .with_handler("deliver", move |event| {
            let pipeline = Arc::clone(&pipeline);
            async move { deliver::handle(&pipeline, event).await }
        })
}

#[tokio::test]
async fn every_sample_event_is_accepted_by_its_function() {
    let invoker = all_functions();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut checked = 0;
    for folder in std::fs::read_dir(&root).unwrap() {
        let folder = folder.unwrap().path();
        let function = folder.file_name().unwrap().to_str().unwrap().to_owned();
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            let payload: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
                    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
            let response = invoker
                .invoke(&function, payload)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if let Some(status) = response.get("statusCode") {
                let status = status.as_u64().unwrap();
                assert!(status < 500, "{}: status {status}", file.display());
            } else {
                assert!(
                    response["batchItemFailures"].is_array(),
                    "{}: {response}",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 3,
        "expected sample events for every function, found {checked}"
    );
}
