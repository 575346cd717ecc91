//! `fanout`: the DynamoDB Streams handler on the events table. Each new event becomes SQS
//! messages to its matching active subscriptions, up to ten to a message.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent};
use shared::delivery::TypeSightings;
use shared::delivery::{PipelineError, messages_for};
use shared::ports::delivery::{DeliveryQueue, DeliveryStore};
use shared::ports::{EventTypeStore, SubscriptionStore};

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::wiring::config::FanoutConfig::VARS;

/// The event types this container noted for the catalog, and when (one per container, like
/// `deliver`'s subscription cache).
static SIGHTINGS: std::sync::LazyLock<TypeSightings> =
    std::sync::LazyLock::new(TypeSightings::default);

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
    S: DeliveryStore + SubscriptionStore + EventTypeStore,
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

/// Fans out a stream batch in order: the messages of every event, sent together (ten to a
/// `SendMessageBatch`). At the first record that fails (or, when the send fails, at the first
/// event), that record and every later one are reported in `batchItemFailures` (Lambda retries
/// from the lowest), so order holds and nothing is skipped; a delivery sent twice this way is
/// not made twice. Records that are not event inserts are passed over. The types of the events
/// sent are noted in the account's catalog (see `shared::delivery::catalog`).
pub async fn fan_out_records<S, Q>(
    store: &S,
    queue: &Q,
    records: &[EventRecord],
) -> DynamoDbEventResponse
where
    S: DeliveryStore + SubscriptionStore + EventTypeStore,
    Q: DeliveryQueue,
{
    let (mut messages, mut sent) = (Vec::new(), Vec::new());
    let (mut events, mut first_event, mut failed_at) = (0_usize, None, None);
    for (index, record) in records.iter().enumerate() {
        if !is_event_insert(record) {
            continue;
        }
        let made =
            match shared::adapters::dynamodb::event_from_item(record.change.new_image.clone()) {
                Ok(event) => messages_for(store, &event).await.map(|m| (event, m)),
                Err(error) => Err(PipelineError::Store(error)),
            };
        match made {
            Ok((event, made)) => {
                tracing::debug!(event_id = %event.id, event_type = %event.event_type, messages = made.len(), "fanned out");
                first_event.get_or_insert(index);
                events += 1;
                messages.extend(made);
                sent.push(event);
            }
            Err(error) => {
                tracing::error!(%error, sequence = ?record.change.sequence_number, "fan-out failed; the stream will retry from here");
                failed_at = Some(index);
                break;
            }
        }
    }
    let deliveries: usize = messages.iter().map(|m| m.targets.len()).sum();
    if let Err(error) = queue.send(&messages).await {
        tracing::error!(%error, "enqueueing the batch's deliveries failed; the stream will retry from its first event");
        failed_at = first_event.or(failed_at);
        sent.clear();
    }
    let noted = SIGHTINGS.note(store, &sent).await;
    let mut response = DynamoDbEventResponse::default();
    for failed in failed_at.map_or(&records[..0], |i| &records[i..]) {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure
            .item_identifier
            .clone_from(&failed.change.sequence_number);
        response.batch_item_failures.push(failure);
    }
    // One line per batch at INFO (CloudWatch bills each byte); each event's at DEBUG.
    tracing::info!(
        records = records.len(),
        events,
        messages = messages.len(),
        deliveries,
        types_noted = noted,
        failed = response.batch_item_failures.len(),
        "fanned out"
    );
    response
}
