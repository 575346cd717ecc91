//! `fanout`: the DynamoDB Streams handler on the events table. Each new event becomes one SQS
//! message per matching active subscription.

use aws_lambda_events::event::dynamodb::Event as DynamoDbEvent;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent};
use shared::delivery::{DeliveryQueue, DeliveryStore, fan_out_records};
use shared::ports::SubscriptionStore;

pub use shared::delivery::is_event_insert;

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::config::FanoutConfig::VARS;

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
