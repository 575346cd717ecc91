//! The local stack is real: the AWS SDK talks to DynamoDB Local and the SQS emulator, and the
//! bridge hands stream records and queue messages to the functions' handlers exactly as Lambda's
//! event source mappings would, honouring `batchItemFailures`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use common::{eventually, fresh_stack};
use devstack::bridge::{Bridge, LocalSettings, Mappings};
use devstack::invoke::InProcess;
use devstack::provision::{Clients, Stack};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Seen = Arc<Mutex<Vec<Value>>>;

const WAIT: Duration = Duration::from_secs(20);

fn records(seen: &Seen) -> Vec<Value> {
    seen.lock()
        .unwrap()
        .iter()
        .flat_map(|batch| batch["Records"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn sort_key(record: &Value) -> String {
    record["dynamodb"]["NewImage"]["sk"]["S"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn start_bridge(clients: &Clients, stack: &Stack, only: &str, invoker: InProcess) -> Bridge {
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
    assert_eq!(
        mappings.streams.len() + mappings.queues.len(),
        1,
        "template.yaml maps exactly one source to {only}"
    );
    Bridge::start(clients, mappings, Arc::new(invoker))
        .await
        .unwrap()
}

async fn put(clients: &Clients, table: &str, sk: &str, entity: &str) {
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

async fn queue_counts(clients: &Clients, url: &str) -> (u64, u64) {
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
fn failing_when<F>(function: &str, seen: &Seen, fails: F) -> InProcess
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
fn recording_fanout(seen: &Seen) -> InProcess {
    let seen = Arc::clone(seen);
    InProcess::new().with_handler("fanout", move |event: LambdaEvent<Value>| {
        let seen = Arc::clone(&seen);
        async move {
            seen.lock().unwrap().push(event.payload.clone());
            let typed: DynamoDbEvent = serde_json::from_value(event.payload)?;
            assert!(typed.records.iter().all(fanout::is_event_insert));
            Ok::<_, lambda_runtime::Error>(json!({ "batchItemFailures": [] }))
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_write_reaches_fanout_through_the_stream_and_the_template_filter() {
    let (clients, stack) = fresh_stack("stream", &[]).await;
    let table = stack.table("EventsTable").unwrap().name.clone();
    let stream_arn = stack
        .table("EventsTable")
        .unwrap()
        .stream_arn
        .clone()
        .expect("EventsTable has a stream");
    let seen: Seen = Arc::default();
    let _bridge = start_bridge(&clients, &stack, "fanout", recording_fanout(&seen)).await;

    put(&clients, &table, "USER#1", "user").await; // not an event: the filter drops it
    put(&clients, &table, "EVT#1", "event").await;
    clients
        .dynamodb
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("ACC#acme".into()))
        .key("sk", AttributeValue::S("EVT#1".into()))
        .update_expression("SET touched = :t")
        .expression_attribute_values(":t", AttributeValue::Bool(true))
        .send()
        .await
        .unwrap(); // a MODIFY: dropped too
    put(&clients, &table, "EVT#2", "event").await;

    eventually("EVT#2 at fanout", WAIT, || async {
        records(&seen)
            .iter()
            .any(|r| sort_key(r) == "EVT#2")
            .then_some(())
    })
    .await;
    let got = records(&seen);
    let keys: Vec<String> = got.iter().map(sort_key).collect();
    assert_eq!(
        keys,
        ["EVT#1", "EVT#2"],
        "only event inserts pass the template's FilterCriteria, in order"
    );
    let first = &got[0];
    assert_eq!(first["eventName"], "INSERT");
    assert_eq!(first["eventSource"], "aws:dynamodb");
    assert_eq!(first["eventSourceARN"], stream_arn.as_str());
    assert_eq!(
        first["dynamodb"]["Keys"],
        json!({"pk": {"S": "ACC#acme"}, "sk": {"S": "EVT#1"}})
    );
    assert_eq!(
        first["dynamodb"]["NewImage"]["type"],
        json!({"S": "user.created"})
    );
    assert_eq!(first["dynamodb"]["StreamViewType"], "NEW_IMAGE");
    let typed: DynamoDbEvent = serde_json::from_value(seen.lock().unwrap()[0].clone()).unwrap();
    assert!(fanout::is_event_insert(&typed.records[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_stream_failure_is_retried_from_the_lowest_failed_record() {
    let (clients, stack) = fresh_stack("retry", &[]).await;
    let table = stack.table("EventsTable").unwrap().name.clone();
    let seen: Seen = Arc::default();
    let invoker = failing_when("fanout", &seen, |before, record| {
        sort_key(record) == "EVT#2" && !before.iter().any(|r| sort_key(r) == "EVT#2")
    });
    let _bridge = start_bridge(&clients, &stack, "fanout", invoker).await;
    for sk in ["EVT#1", "EVT#2", "EVT#3"] {
        put(&clients, &table, sk, "event").await;
    }
    eventually("EVT#2 retried and EVT#3 delivered", WAIT, || async {
        let keys: Vec<String> = records(&seen).iter().map(sort_key).collect();
        (keys.iter().filter(|k| *k == "EVT#2").count() == 2 && keys.iter().any(|k| k == "EVT#3"))
            .then_some(())
    })
    .await;
    let batches = seen.lock().unwrap().clone();
    let all: Vec<String> = records(&seen).iter().map(sort_key).collect();
    assert_eq!(
        all.iter().filter(|k| *k == "EVT#1").count(),
        1,
        "records before the failure are checkpointed: {all:?}"
    );
    let retry = batches
        .iter()
        .filter(|b| {
            b["Records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| sort_key(r) == "EVT#2")
        })
        .nth(1)
        .expect("a second batch with EVT#2");
    assert_eq!(
        sort_key(&retry["Records"][0]),
        "EVT#2",
        "the retry starts at the failed record: {all:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_keeps_failing_goes_to_the_on_failure_queue_and_the_shard_moves_on() {
    let (clients, stack) = fresh_stack("poison", &[]).await;
    let table = stack.table("EventsTable").unwrap().name.clone();
    let failure_queue = stack.queue("FanoutFailureQueue").unwrap().url.clone();
    let seen: Seen = Arc::default();
    let invoker = failing_when("fanout", &seen, |_, record| {
        sort_key(record) == "EVT#poison"
    });
    let _bridge = start_bridge(&clients, &stack, "fanout", invoker).await;
    put(&clients, &table, "EVT#poison", "event").await;
    put(&clients, &table, "EVT#after", "event").await;

    let message = eventually("a message on the on-failure queue", WAIT, || async {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(&failure_queue)
            .send()
            .await
            .unwrap();
        received.messages.unwrap_or_default().into_iter().next()
    })
    .await;
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    assert_eq!(
        body["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert!(body["DDBStreamBatchInfo"]["batchSize"].as_u64().unwrap() >= 1);
    let mapping = Mappings::from_stack(&stack, LocalSettings::default())
        .unwrap()
        .streams
        .remove(0);
    let attempts = records(&seen)
        .iter()
        .filter(|r| sort_key(r) == "EVT#poison")
        .count();
    assert_eq!(
        attempts,
        usize::try_from(mapping.max_retry_attempts.unwrap()).unwrap() + 1,
        "one try plus MaximumRetryAttempts retries"
    );
    eventually("EVT#after processed", WAIT, || async {
        records(&seen)
            .iter()
            .any(|r| sort_key(r) == "EVT#after")
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_message_reaches_deliver_as_an_sqs_event() {
    let (clients, stack) = fresh_stack("sqs", &[]).await;
    let queue = stack.queue("DeliveryQueue").unwrap().clone();
    let seen: Seen = Arc::default();
    let recorder = Arc::clone(&seen);
    let invoker = InProcess::new().with_handler("deliver", move |event: LambdaEvent<Value>| {
        let recorder = Arc::clone(&recorder);
        async move {
            recorder.lock().unwrap().push(event.payload.clone());
            // As deliver does for a message it must retry: report it failed.
            let typed: SqsEvent = serde_json::from_value(event.payload)?;
            let failures: Vec<Value> = typed
                .records
                .iter()
                .map(|m| json!({"itemIdentifier": m.message_id}))
                .collect();
            Ok::<_, lambda_runtime::Error>(json!({ "batchItemFailures": failures }))
        }
    });
    let _bridge = start_bridge(&clients, &stack, "deliver", invoker).await;
    clients
        .sqs
        .send_message()
        .queue_url(&queue.url)
        .message_body(r#"{"delivery":"d1"}"#)
        .message_attributes(
            "attempt",
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let got = eventually("the message at deliver", WAIT, || async {
        records(&seen).into_iter().next()
    })
    .await;
    assert_eq!(got["body"], r#"{"delivery":"d1"}"#);
    assert_eq!(got["eventSource"], "aws:sqs");
    assert_eq!(got["eventSourceARN"], queue.arn.as_str());
    assert_eq!(got["attributes"]["ApproximateReceiveCount"], "1");
    assert_eq!(got["messageAttributes"]["attempt"]["stringValue"], "1");
    assert_eq!(got["messageAttributes"]["attempt"]["dataType"], "Number");
    // The handler reported the message as failed, so it was not deleted: it waits, invisible.
    eventually("the message kept in flight", WAIT, || async {
        (queue_counts(&clients, &queue.url).await == (0, 1)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_messages_not_reported_as_failures_are_deleted() {
    let (clients, stack) = fresh_stack("partial", &[]).await;
    let queue = stack.queue("DeliveryQueue").unwrap().url.clone();
    let seen: Seen = Arc::default();
    let invoker = failing_when("deliver", &seen, |_, message| {
        message["body"].as_str().unwrap().starts_with("fail")
    });
    let entries: Vec<SendMessageBatchRequestEntry> = ["ok-1", "fail-2", "ok-3"]
        .iter()
        .enumerate()
        .map(|(i, body)| {
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(*body)
                .build()
                .unwrap()
        })
        .collect();
    clients
        .sqs
        .send_message_batch()
        .queue_url(&queue)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();
    let _bridge = start_bridge(&clients, &stack, "deliver", invoker).await;

    eventually("all three handled", WAIT, || async {
        (records(&seen).len() >= 3).then_some(())
    })
    .await;
    eventually("only fail-2 left, in flight", WAIT, || async {
        (queue_counts(&clients, &queue).await == (0, 1)).then_some(())
    })
    .await;
    let bodies: Vec<String> = records(&seen)
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        bodies.len(),
        3,
        "nothing was redelivered within the visibility timeout: {bodies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_failed_three_times_lands_in_the_dead_letter_queue() {
    let (clients, stack) = fresh_stack("dlq", &[("DeliveryAttempts", "3")]).await;
    let queue = stack.queue("DeliveryQueue").unwrap().url.clone();
    let dlq = stack.queue("DeliveryDeadLetterQueue").unwrap().url.clone();
    let seen: Seen = Arc::default();
    let recorder = Arc::clone(&seen);
    let sqs = clients.sqs.clone();
    let queue_for_handler = queue.clone();
    // Fails every message and, as deliver's backoff does, sets when it may be received again
    // (here at once) with ChangeMessageVisibility.
    let invoker = InProcess::new().with_handler("deliver", move |event: LambdaEvent<Value>| {
        let recorder = Arc::clone(&recorder);
        let sqs = sqs.clone();
        let queue = queue_for_handler.clone();
        async move {
            recorder.lock().unwrap().push(event.payload.clone());
            let mut failures = Vec::new();
            for message in event.payload["Records"].as_array().unwrap() {
                sqs.change_message_visibility()
                    .queue_url(&queue)
                    .receipt_handle(message["receiptHandle"].as_str().unwrap())
                    .visibility_timeout(0)
                    .send()
                    .await?;
                failures.push(json!({"itemIdentifier": message["messageId"]}));
            }
            Ok::<_, lambda_runtime::Error>(json!({ "batchItemFailures": failures }))
        }
    });
    let _bridge = start_bridge(&clients, &stack, "deliver", invoker).await;
    clients
        .sqs
        .send_message()
        .queue_url(&queue)
        .message_body("doomed")
        .send()
        .await
        .unwrap();

    let dead = eventually("the message in the DLQ", WAIT, || async {
        let received = clients
            .sqs
            .receive_message()
            .queue_url(&dlq)
            .send()
            .await
            .unwrap();
        received.messages.unwrap_or_default().into_iter().next()
    })
    .await;
    assert_eq!(dead.body(), Some("doomed"));
    let counts: Vec<String> = records(&seen)
        .iter()
        .map(|m| {
            m["attributes"]["ApproximateReceiveCount"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        counts,
        ["1", "2", "3"],
        "handled exactly maxReceiveCount times"
    );
    assert_eq!(queue_counts(&clients, &queue).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioned_resources_match_their_template_definitions() {
    let (clients, stack) = fresh_stack("shape", &[]).await;
    let root = stack.template.root().clone();
    for (id, table) in &stack.tables {
        let declared = &root["Resources"][id]["Properties"];
        let described = clients
            .dynamodb
            .describe_table()
            .table_name(&table.name)
            .send()
            .await
            .unwrap()
            .table
            .unwrap();
        let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Value {
            schema.iter().map(|k| json!({"AttributeName": k.attribute_name(), "KeyType": k.key_type().as_str()})).collect()
        };
        assert_eq!(
            keys(described.key_schema()),
            declared["KeySchema"],
            "{id} key schema"
        );
        let indexes: Value = described
            .global_secondary_indexes()
            .iter()
            .map(|i| json!({"IndexName": i.index_name(), "KeySchema": keys(i.key_schema()),
                            "Projection": {"ProjectionType": i.projection().and_then(|p| p.projection_type()).map(|t| t.as_str())}}))
            .collect();
        assert_eq!(
            indexes,
            declared
                .get("GlobalSecondaryIndexes")
                .cloned()
                .unwrap_or(json!([])),
            "{id} indexes"
        );
        let view = described
            .stream_specification()
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str().to_owned());
        assert_eq!(
            view.as_deref(),
            declared["StreamSpecification"]["StreamViewType"].as_str(),
            "{id} stream"
        );
        let ttl = clients
            .dynamodb
            .describe_time_to_live()
            .table_name(&table.name)
            .send()
            .await
            .unwrap();
        let ttl = ttl
            .time_to_live_description()
            .and_then(|d| d.attribute_name())
            .map(str::to_owned);
        assert_eq!(
            ttl.as_deref(),
            declared["TimeToLiveSpecification"]["AttributeName"].as_str(),
            "{id} TTL"
        );
    }
    for (id, queue) in &stack.queues {
        let declared = &root["Resources"][id]["Properties"];
        let attributes = clients
            .sqs
            .get_queue_attributes()
            .queue_url(&queue.url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        for name in [
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
        ] {
            if let Some(value) = declared.get(name) {
                assert_eq!(
                    attributes[&QueueAttributeName::from(name)],
                    stack.context.resolve_string(value).unwrap(),
                    "{id} {name}"
                );
            }
        }
        if declared.get("RedrivePolicy").is_some() {
            let policy: Value =
                serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
            let defaults = stack.template.parameter_defaults();
            assert_eq!(
                policy["maxReceiveCount"].to_string(),
                defaults["DeliveryAttempts"],
                "{id} maxReceiveCount"
            );
            assert_eq!(
                policy["deadLetterTargetArn"],
                stack.queue("DeliveryDeadLetterQueue").unwrap().arn.as_str()
            );
        }
    }
}
