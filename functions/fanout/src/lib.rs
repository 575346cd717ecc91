//! `fanout`: the DynamoDB Streams handler on the events table. Each new event becomes SQS
//! messages to its matching active subscriptions, up to ten to a message.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent};
use shared::delivery::{PipelineError, fan_out};
use shared::ports::SubscriptionStore;
use shared::ports::delivery::{DeliveryQueue, DeliveryStore};

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::wiring::config::FanoutConfig::VARS;

/// Handles one stream batch; failures are reported per record, never for the whole batch.
///
/// # Errors
/// None: every failure is a `batchItemFailures` entry.
pub async fn handle<S, Q>(
    store: &S,
    queue: &Q,
    event: LambdaEvent<DynamoDbEvent>,
) -> Result<DynamoDbEventResponse, Error>
where
    S: DeliveryStore + SubscriptionStore,
    Q: DeliveryQueue,
{
    Ok(fan_out_records(store, queue, &event.payload.records).await)
}

/// Whether a stream record is the insert of an event item (the outbox row).
#[must_use]
pub fn is_event_insert(record: &EventRecord) -> bool {
    record.event_name == "INSERT"
        && matches!(record.change.new_image.get("entity"), Some(serde_dynamo::AttributeValue::S(s)) if s == "event")
}

/// Fans out a stream batch in order. At the first record that fails, that record and every later
/// one are reported in `batchItemFailures` (Lambda retries from the lowest), so order holds and
/// nothing is skipped; records that are not event inserts are passed over.
pub async fn fan_out_records<S, Q>(
    store: &S,
    queue: &Q,
    records: &[EventRecord],
) -> DynamoDbEventResponse
where
    S: DeliveryStore + SubscriptionStore,
    Q: DeliveryQueue,
{
    let mut response = DynamoDbEventResponse::default();
    let (mut events, mut deliveries) = (0_usize, 0_usize);
    for (index, record) in records.iter().enumerate() {
        if !is_event_insert(record) {
            continue;
        }
        let outcome =
            match shared::adapters::dynamodb::event_from_item(record.change.new_image.clone()) {
                Ok(event) => fan_out(store, queue, &event)
                    .await
                    .map(|count| (event, count)),
                Err(error) => Err(PipelineError::Store(error)),
            };
        match outcome {
            Ok((event, count)) => {
                tracing::debug!(event_id = %event.id, event_type = %event.event_type, deliveries = count, "fanned out");
                events += 1;
                deliveries += count;
            }
            Err(error) => {
                tracing::error!(%error, sequence = ?record.change.sequence_number, "fan-out failed; the stream will retry from here");
                for failed in &records[index..] {
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure
                        .item_identifier
                        .clone_from(&failed.change.sequence_number);
                    response.batch_item_failures.push(failure);
                }
                break;
            }
        }
    }
    // One line per batch at INFO (CloudWatch bills each byte); each event's at DEBUG.
    tracing::info!(
        records = records.len(),
        events,
        deliveries,
        failed = response.batch_item_failures.len(),
        "fanned out"
    );
    response
}
