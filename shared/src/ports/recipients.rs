//! Whom an event goes to, read through the ports: the one subscription a `webhook.test` names;
//! every subscription of the account for a broadcast `webhook.test` (one that names none);
//! else those whose filters match its type. Inactive ones included: the caller decides.

use super::delivery::DeliveryStore;
use super::{StoreResult, SubscriptionStore};
use crate::domain::event_type::any_matches;
use crate::model::{AccountId, Event, EventHead, Subscription};

pub use crate::domain::event_type::TEST_EVENT_TYPE;

/// Whether an event goes to `subscription` (active or not): the rule of [`recipients`], for one
/// event and one subscription.
#[must_use]
pub fn goes_to(event: &EventHead, subscription: &Subscription) -> bool {
    match event.subscription_id {
        Some(id) => id == subscription.id,
        None if event.event_type == TEST_EVENT_TYPE => true,
        None => any_matches(&subscription.event_types, &event.event_type),
    }
}

/// Subscriptions read per page when every one is wanted.
const PAGE: usize = 100;

/// The subscriptions `event` goes to (active or not).
///
/// # Errors
/// The store failed.
pub async fn recipients<S>(store: &S, event: &Event) -> StoreResult<Vec<Subscription>>
where
    S: SubscriptionStore + DeliveryStore,
{
    match &event.subscription_id {
        Some(id) => Ok(store
            .get_subscription(&event.account_id, id)
            .await?
            .into_iter()
            .collect()),
        None if event.event_type == TEST_EVENT_TYPE => {
            every_subscription(store, &event.account_id).await
        }
        None => {
            store
                .matching_subscriptions(&event.account_id, &event.event_type)
                .await
        }
    }
}

/// Every subscription of the account, page by page.
async fn every_subscription<S>(store: &S, account: &AccountId) -> StoreResult<Vec<Subscription>>
where
    S: SubscriptionStore,
{
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_subscriptions(account, None, PAGE, cursor.as_deref())
            .await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}
