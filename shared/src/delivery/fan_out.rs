//! From a new event to one delivery message per matching active subscription.

use super::plan::PipelineError;
use crate::model::Event;
use crate::model::delivery::DeliveryMessage;
use crate::ports::SubscriptionStore;
use crate::ports::delivery::{DeliveryQueue, DeliveryStore};

/// Enqueues one delivery per matching active subscription of `event` (only the named one for a
/// `webhook.test`), records them as pending, and returns how many.
///
/// # Errors
/// The store or the queue failed; nothing is lost, as the stream record will be retried.
pub async fn fan_out<S, Q>(store: &S, queue: &Q, event: &Event) -> Result<usize, PipelineError>
where
    S: DeliveryStore + SubscriptionStore,
    Q: DeliveryQueue,
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
    let messages: Vec<DeliveryMessage> = subscriptions
        .iter()
        .filter(|s| s.active)
        .map(|s| DeliveryMessage::new(event.account_id, event.id, s.id, false))
        .collect();
    queue.send(&messages).await?;
    Ok(messages.len())
}
