//! From a new event to its delivery messages: the matching active subscriptions, up to
//! [`crate::model::delivery::MAX_DELIVERIES_PER_MESSAGE`] to a message.

use super::plan::PipelineError;
use crate::model::Event;
use crate::model::delivery::DeliveryMessage;
use crate::ports::SubscriptionStore;
use crate::ports::delivery::{DeliveryQueue, DeliveryStore};
use crate::ports::recipients::recipients;

/// Enqueues a delivery to each active subscription `event` goes to (see
/// [`crate::ports::recipients`]), several to a message, and returns how many deliveries.
///
/// # Errors
/// The store or the queue failed; nothing is lost, as the stream record will be retried.
pub async fn fan_out<S, Q>(store: &S, queue: &Q, event: &Event) -> Result<usize, PipelineError>
where
    S: DeliveryStore + SubscriptionStore,
    Q: DeliveryQueue,
{
    let messages = messages_for(store, event).await?;
    queue.send(&messages).await?;
    Ok(messages.iter().map(|m| m.targets.len()).sum())
}

/// The messages that deliver `event`: one per ten of the matching active subscriptions.
///
/// # Errors
/// The store failed.
pub async fn messages_for<S>(
    store: &S,
    event: &Event,
) -> Result<Vec<DeliveryMessage>, PipelineError>
where
    S: DeliveryStore + SubscriptionStore,
{
    // Boxed: the store's futures are deep, and inlined into the handler's they overflow the
    // compiler's layout query limit.
    let subscriptions = Box::pin(recipients(store, event)).await?;
    Ok(DeliveryMessage::for_subscriptions(
        event,
        &subscriptions,
        false,
    ))
}
