//! Delivery statuses, attempts and failing marks in memory.

use super::{MemoryStore, page};
use crate::adapters::dynamodb::keys;
use crate::model::Timestamp;
use crate::model::delivery::{Attempt, DeliveryStatus};
use crate::model::{AccountId, EventId, SubscriptionId};
use crate::model::{Page, Subscription};
use crate::ports::StoreResult;
use crate::ports::delivery::{DeliveryContext, DeliveryKey, DeliveryStore, Recorded};

impl DeliveryStore for MemoryStore {
    async fn mark_failing(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        at: &Timestamp,
    ) -> StoreResult<Timestamp> {
        let mut state = self.lock();
        let since = state
            .failing_since
            .entry((account.to_owned(), subscription_id.to_owned()))
            .or_insert(*at);
        Ok(*since)
    }

    async fn mark_healthy(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
    ) -> StoreResult<()> {
        self.lock()
            .failing_since
            .remove(&(account.to_owned(), subscription_id.to_owned()));
        Ok(())
    }

    async fn matching_subscriptions(
        &self,
        account: &AccountId,
        event_type: &str,
    ) -> StoreResult<Vec<Subscription>> {
        let state = self.lock();
        Ok(state
            .subscriptions
            .iter()
            .filter(|((a, _), s)| {
                a == account && crate::domain::event_type::any_matches(&s.event_types, event_type)
            })
            .map(|(_, s)| s.clone())
            .collect())
    }

    async fn delivery_contexts(&self, keys: &[DeliveryKey]) -> StoreResult<Vec<DeliveryContext>> {
        let state = self.lock();
        Ok(keys
            .iter()
            .map(|k| {
                let subscription = (k.account_id, k.subscription_id);
                DeliveryContext {
                    subscription: state.subscriptions.get(&subscription).cloned(),
                    event: state.events.get(&(k.account_id, k.event_id)).cloned(),
                    failing: state.failing_since.contains_key(&subscription),
                    status: state
                        .deliveries
                        .get(&(k.account_id, k.event_id, k.subscription_id))
                        .cloned(),
                }
            })
            .collect())
    }

    async fn record_deliveries(&self, records: &[Recorded]) -> StoreResult<()> {
        let mut state = self.lock();
        for recorded in records {
            if let Some(attempt) = &recorded.attempt {
                state.attempts.push((recorded.account_id, attempt.clone()));
            }
            let status = &recorded.status;
            state.deliveries.insert(
                (recorded.account_id, status.event_id, status.subscription_id),
                status.clone(),
            );
        }
        Ok(())
    }

    async fn deliveries_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
    ) -> StoreResult<Vec<DeliveryStatus>> {
        let state = self.lock();
        Ok(state
            .deliveries
            .iter()
            .filter(|((a, e, _), _)| a == account && e == event_id)
            .map(|(_, d)| d.clone())
            .collect())
    }

    async fn attempts_of_subscription(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Attempt>> {
        let state = self.lock();
        let items = state
            .attempts
            .iter()
            .filter(|(a, attempt)| a == account && attempt.subscription_id == *subscription_id)
            .map(|(_, attempt)| {
                let key = keys::attempt(
                    subscription_id,
                    &attempt.attempted_at,
                    &attempt.delivery_id,
                    attempt.attempt,
                );
                (key, attempt.clone())
            });
        let prefix = keys::attempts_of_subscription(subscription_id);
        page(items, &prefix, limit, cursor, true)
    }

    async fn deactivate(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        reason: &str,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        if let Some(subscription) = state
            .subscriptions
            .get_mut(&(account.to_owned(), subscription_id.to_owned()))
        {
            subscription.active = false;
            subscription.disabled_reason = Some(reason.to_owned());
            subscription.updated_at = crate::model::now();
        }
        Ok(())
    }
}
