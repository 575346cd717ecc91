//! From a new event to its delivery messages: the matching active subscriptions, up to
//! [`crate::model::delivery::MAX_DELIVERIES_PER_MESSAGE`] to a message.

use super::plan::PipelineError;
use crate::model::Event;
use crate::model::delivery::DeliveryMessage;
use crate::ports::SubscriptionStore;
use crate::ports::delivery::{DeliveryQueue, DeliveryStore};

/// Enqueues a delivery to each matching active subscription of `event` (only the named one for
/// a `webhook.test`), several to a message, and returns how many deliveries.
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
    let subscriptions = match &event.subscription_id {
        Some(id) => store
            .get_subscription(&event.account_id, id)
            .await?
            .into_iter()
            .collect(),
        None => {
            store
                .matching_subscriptions(&event.account_id, &event.event_type)
                .await?
        }
    };
    Ok(DeliveryMessage::for_subscriptions(
        event,
        &subscriptions,
        false,
    ))
}
