//! `deliver`: the SQS handler on the delivery queue. Signs (Standard Webhooks) and POSTs each
//! delivery of the batch concurrently; failures back off on the queue and end in the DLQ.
//! This file is the SQS glue: records in, `batchItemFailures` out.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent};
use shared::delivery::Pipeline;
use shared::ports::delivery::{DeliveryQueue, DeliveryStore, QueuedMessage, WebhookSender};
use shared::ports::resolver::Resolver;
use shared::ports::{EventStore, SubscriptionStore};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::wiring::config::DeliverConfig::VARS;

/// Handles one SQS batch.
///
/// # Errors
/// None: every failure is a `batchItemFailures` entry.
pub async fn handle<S, Q, W, R>(
    pipeline: &Pipeline<S, Q, W, R>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    Q: DeliveryQueue,
    W: WebhookSender,
    R: Resolver,
{
    // The invocation's start bounds when its messages were received (for SQS's 12 h visibility).
    let invoked_at = SystemTime::now();
    Ok(deliver_records(pipeline, &event.payload.records, invoked_at).await)
}

/// Delivers SQS records of an invocation that started at `invoked_at`; the records to retry are
/// the batch item failures.
pub async fn deliver_records<S, Q, W, R>(
    pipeline: &Pipeline<S, Q, W, R>,
    records: &[SqsMessage],
    invoked_at: SystemTime,
) -> SqsBatchResponse
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    Q: DeliveryQueue,
    W: WebhookSender,
    R: Resolver,
{
    let messages: Vec<QueuedMessage> = records.iter().map(queued).collect();
    let keep = pipeline.deliver_batch(&messages, invoked_at).await;
    let mut response = SqsBatchResponse::default();
    for (message, keep) in messages.into_iter().zip(keep) {
        if keep && let Some(id) = message.id {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// An SQS record as the pipeline reads it: its id, body, receipt handle, and the receive
/// attributes SQS sets (`ApproximateFirstReceiveTimestamp`, `ApproximateReceiveCount`).
#[must_use]
pub fn queued(record: &SqsMessage) -> QueuedMessage {
    let attribute = |name: &str| record.attributes.get(name).map(String::as_str);
    QueuedMessage {
        id: record.message_id.clone(),
        body: record.body.clone(),
        receipt_handle: record.receipt_handle.clone(),
        first_receive: attribute("ApproximateFirstReceiveTimestamp")
            .and_then(|ms| ms.parse().ok())
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
        receive_count: attribute("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_records_are_read_with_their_receive_attributes() {
        let mut record = SqsMessage::default();
        record.message_id = Some("m-1".into());
        record.receipt_handle = Some("rh-1".into());
        record.body = Some("{}".into());
        record
            .attributes
            .insert("ApproximateReceiveCount".into(), "3".into());
        record.attributes.insert(
            "ApproximateFirstReceiveTimestamp".into(),
            "1700000000123".into(),
        );
        assert_eq!(
            queued(&record),
            QueuedMessage {
                id: Some("m-1".into()),
                body: Some("{}".into()),
                receipt_handle: Some("rh-1".into()),
                first_receive: Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)),
                receive_count: 3,
            }
        );
        let bare = queued(&SqsMessage::default());
        assert_eq!((bare.receive_count, bare.first_receive), (1, None));
    }
}
