//! The stream mapping: SDK writes reach fanout through the template's filter; partial failures
//! retried from the lowest failed record; poison records to the on-failure queue.

use crate::common::{eventually, fresh_stack};
use crate::support::*;
use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use devstack::bridge::{LocalSettings, Mappings};
use serde_json::{Value, json};
use std::sync::Arc;

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
    assert!(
        fanout::insert_of(&typed.records[0]).is_some(),
        "an insert fan-out handles"
    );
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
