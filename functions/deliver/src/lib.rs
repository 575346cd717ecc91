//! `deliver`: the SQS handler on the delivery queue. Signs (Standard Webhooks) and POSTs each
//! delivery of the batch concurrently; failures back off on the queue and end in the DLQ.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shared::delivery::Pipeline;
use shared::ports::delivery::{DeliveryQueue, DeliveryStore, WebhookSender};
use shared::ports::resolver::Resolver;
use shared::ports::{EventStore, SubscriptionStore};

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::config::DeliverConfig::VARS;

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
    let invoked_at = std::time::SystemTime::now();
    Ok(pipeline
        .deliver_batch(&event.payload.records, invoked_at)
        .await)
}
