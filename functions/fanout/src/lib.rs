//! `fanout`: the DynamoDB Streams handler on the events table. Each new event becomes SQS
//! messages to its matching active subscriptions, up to ten to a message; each replay part, one
//! message per event to its subscription.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent};
use shared::adapters::dynamodb;
use shared::delivery::TypeSightings;
use shared::delivery::{PipelineError, messages_for, replay};
use shared::model::{Event, ReplayPart};
use shared::ports::StoreError;
use shared::ports::delivery::{DeliveryQueue, DeliveryStore};
use shared::ports::streams::StreamReader;
use shared::ports::{EventTypeStore, SubscriptionStore};

pub mod failures;

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

/// Handles what invokes the function: a batch of the events stream, or messages of the fan-out
/// failure queue ([`failures`]). Both answer `batchItemFailures`.
///
/// # Errors
/// The event is neither.
pub async fn handle_any<S, Q, R>(
    store: &S,
    queue: &Q,
    streams: &R,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, Error>
where
    S: DeliveryStore + SubscriptionStore + EventTypeStore,
    Q: DeliveryQueue,
    R: StreamReader,
{
    let (payload, context) = (event.payload, event.context);
    let response = if payload["Records"][0]["eventSource"] == "aws:sqs" {
        let messages: SqsEvent = serde_json::from_value(payload)?;
        serde_json::to_value(failures::fan_out_failures(store, queue, streams, &messages).await)?
    } else {
        let batch: DynamoDbEvent = serde_json::from_value(payload)?;
        serde_json::to_value(handle(store, queue, LambdaEvent::new(batch, context)).await?)?
    };
    Ok(response)
}

/// What a stream record of the events table brings fan-out.
pub enum Insert {
    /// A new event (the outbox row): to each subscription it goes to.
    Event(Event),
    /// A part of a replay: each of its events again, to one subscription.
    ReplayPart(ReplayPart),
}

/// The insert a stream record is, if fan-out handles it.
#[must_use]
pub fn insert_of(record: &EventRecord) -> Option<Result<Insert, StoreError>> {
    let Some(serde_dynamo::AttributeValue::S(entity)) = record.change.new_image.get("entity")
    else {
        return None;
    };
    if record.event_name != "INSERT" {
        return None;
    }
    let image = || record.change.new_image.clone();
    match entity.as_str() {
        "event" => Some(dynamodb::event_from_item(image()).map(Insert::Event)),
        dynamodb::REPLAY_PART_ENTITY => {
            Some(dynamodb::replay_part_from_item(image()).map(Insert::ReplayPart))
        }
        _ => None,
    }
}

/// Fans out a stream batch in order: the messages of every event, sent together (ten to a
/// `SendMessageBatch`). At the first record that fails (or, when the send fails, at the first
/// event), that record and every later one are reported in `batchItemFailures` (Lambda retries
/// from the lowest), so order holds and nothing is skipped; a delivery sent twice this way is
/// not made twice. Records that are neither event nor replay-part inserts are passed over. The types of the events
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
        let made = match insert_of(record) {
            None => continue,
            Some(Ok(Insert::Event(event))) => {
                messages_for(store, &event).await.map(|m| (Some(event), m))
            }
            Some(Ok(Insert::ReplayPart(part))) => Ok((None, replay::messages_of(&part))),
            Some(Err(error)) => Err(PipelineError::Store(error)),
        };
        match made {
            Ok((event, made)) => {
                tracing::debug!(sequence = ?record.change.sequence_number, messages = made.len(), "fanned out");
                first_event.get_or_insert(index);
                events += 1;
                messages.extend(made);
                sent.extend(event);
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
