//! Stream batches fanout gave up on, fanned out again. After its retries the events stream's
//! mapping sends Lambda's on-failure record of the batch (where its records are, not the records)
//! to the fan-out failure queue, whose own mapping invokes fanout with it: the records are read
//! from the stream again and fanned out like any batch. A message that cannot be done yet (the
//! store or the queue still failing) is reported failed and comes back after the queue's
//! visibility timeout, until its redrive policy moves it to the fan-out dead-letter queue (the
//! stream keeps records 24 hours).

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use shared::model::StreamFailure;
use shared::ports::delivery::{DeliveryQueue, DeliveryStore};
use shared::ports::streams::StreamReader;
use shared::ports::{EventTypeStore, SubscriptionStore};

/// Fans out again the batch each message names; the messages that failed, for SQS to retry.
pub async fn fan_out_failures<S, Q, R>(
    store: &S,
    queue: &Q,
    streams: &R,
    event: &SqsEvent,
) -> SqsBatchResponse
where
    S: DeliveryStore + SubscriptionStore + EventTypeStore,
    Q: DeliveryQueue,
    R: StreamReader,
{
    let mut response = SqsBatchResponse::default();
    let mut records = 0;
    for message in &event.records {
        match fan_out_failure(store, queue, streams, message).await {
            Ok(read) => records += read,
            Err(error) => {
                tracing::error!(message_id = ?message.message_id, %error, "a failed stream batch could not be fanned out again; it comes back after the visibility timeout");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
    }
    tracing::info!(
        messages = event.records.len(),
        records,
        failed = response.batch_item_failures.len(),
        "fanned out failed stream batches again"
    );
    response
}

/// The records of one on-failure message, fanned out; how many there were.
async fn fan_out_failure<S, Q, R>(
    store: &S,
    queue: &Q,
    streams: &R,
    message: &SqsMessage,
) -> Result<usize, String>
where
    S: DeliveryStore + SubscriptionStore + EventTypeStore,
    Q: DeliveryQueue,
    R: StreamReader,
{
    let failure: StreamFailure = serde_json::from_str(message.body.as_deref().unwrap_or_default())
        .map_err(|e| format!("not an on-failure record of a stream batch: {e}"))?;
    let records: Vec<EventRecord> = streams
        .read(&failure.batch)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("an unreadable stream record: {e}"))?;
    let fanned = crate::fan_out_records(store, queue, &records).await;
    if fanned.batch_item_failures.is_empty() {
        Ok(records.len())
    } else {
        Err(format!(
            "{} of {} records not fanned out",
            fanned.batch_item_failures.len(),
            records.len()
        ))
    }
}
