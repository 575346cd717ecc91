//! The queue mapping: SQS events to deliver, batchItemFailures honoured, the dead-letter queue
//! after maxReceiveCount; resources as the template defines them.

use crate::common::{eventually, fresh_stack};
use crate::support::*;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use devstack::invoke::InProcess;
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use std::sync::Arc;

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
        if let Some(declared) = declared.get("RedrivePolicy") {
            let policy: Value =
                serde_json::from_str(&attributes[&QueueAttributeName::RedrivePolicy]).unwrap();
            assert_eq!(
                policy["maxReceiveCount"].to_string(),
                stack
                    .context
                    .resolve_string(&declared["maxReceiveCount"])
                    .unwrap(),
                "{id} maxReceiveCount"
            );
            assert_eq!(
                policy["deadLetterTargetArn"].as_str().unwrap(),
                stack
                    .context
                    .resolve_string(&declared["deadLetterTargetArn"])
                    .unwrap(),
                "{id} deadLetterTargetArn"
            );
        }
    }
}
