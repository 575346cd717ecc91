//! Helpers: a bridge with recording or failing handlers, item writes, queue counts.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use devstack::bridge::{Bridge, LocalSettings, Mappings};
use devstack::invoke::InProcess;
use devstack::provision::{Clients, Stack};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) type Seen = Arc<Mutex<Vec<Value>>>;

pub(crate) const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn records(seen: &Seen) -> Vec<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .flat_map(|batch| batch["Records"].as_array().cloned().unwrap_or_default())
        .collect()
}

pub(crate) fn sort_key(record: &Value) -> String {
    record["dynamodb"]["NewImage"]["sk"]["S"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn start_bridge(
    clients: &Clients,
    stack: &Stack,
    only: &str,
    invoker: InProcess,
) -> Bridge {
    let mut mappings = Mappings::from_stack(
        stack,
        LocalSettings {
            sqs_pollers: 1,
            ..LocalSettings::default()
        },
    )
    .unwrap();
    mappings.streams.retain(|m| m.function == only);
    mappings.queues.retain(|m| m.function == only);
    // A function with a stream: that mapping alone (fanout's failure-queue mapping is tested end
    // to end in tests/tests/delivery/retries.rs).
    if !mappings.streams.is_empty() {
        mappings.queues.clear();
    }
    assert_eq!(
        mappings.streams.len() + mappings.queues.len(),
        1,
        "template.yaml maps exactly one source to {only}"
    );
    Bridge::start(clients, mappings, Arc::new(invoker))
        .await
        .unwrap()
}

pub(crate) async fn put(clients: &Clients, table: &str, sk: &str, entity: &str) {
    clients
        .dynamodb
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S("ACC#acme".into()))
        .item("sk", AttributeValue::S(sk.into()))
        .item("entity", AttributeValue::S(entity.into()))
        .item("type", AttributeValue::S("user.created".into()))
        .send()
        .await
        .unwrap();
}

pub(crate) async fn queue_counts(clients: &Clients, url: &str) -> (u64, u64) {
    let attributes = clients
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap_or_default();
    let count = |name: QueueAttributeName| {
        attributes
            .get(&name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// A `function` that records each batch and reports as failed the records `fails` picks, given
/// the records seen before this batch. Stream records are named by sequence number, messages by
/// id, as Lambda expects.
pub(crate) fn failing_when<F>(function: &str, seen: &Seen, fails: F) -> InProcess
where
    F: Fn(&[Value], &Value) -> bool + Send + Sync + 'static,
{
    let seen = Arc::clone(seen);
    let fails = Arc::new(fails);
    InProcess::new().with_handler(function, move |event: LambdaEvent<Value>| {
        let seen = Arc::clone(&seen);
        let fails = Arc::clone(&fails);
        async move {
            let before = records(&seen);
            seen.lock().unwrap().push(event.payload.clone());
            let failures: Vec<Value> = event.payload["Records"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|record| fails(&before, record))
                .map(|record| {
                    let id = record
                        .get("messageId")
                        .unwrap_or(&record["dynamodb"]["SequenceNumber"]);
                    json!({ "itemIdentifier": id })
                })
                .collect();
            Ok::<_, std::convert::Infallible>(json!({ "batchItemFailures": failures }))
        }
    })
}

/// A `fanout` that records each batch as JSON and checks it deserialises as Lambda's type.
pub(crate) fn recording_fanout(seen: &Seen) -> InProcess {
    let seen = Arc::clone(seen);
    InProcess::new().with_handler("fanout", move |event: LambdaEvent<Value>| {
        let seen = Arc::clone(&seen);
        async move {
            seen.lock().unwrap().push(event.payload.clone());
            let typed: DynamoDbEvent = serde_json::from_value(event.payload)?;
            assert!(typed.records.iter().all(|r| fanout::insert_of(r).is_some()));
            Ok::<_, lambda_runtime::Error>(json!({ "batchItemFailures": [] }))
        }
    })
}
