//! Delivery records and failing marks in memory, grouped as the DynamoDB adapter groups them
//! (one outcome record per event and write), so listings page alike.

use super::{MemoryStore, Outcomes, page};
use crate::adapters::dynamodb::keys;
use crate::model::Timestamp;
use crate::model::delivery::{Attempt, DeliveryStatus, latest_statuses};
use crate::model::operational::SubscriptionDisabled;
use crate::model::{AccountId, EventId, SubscriptionId};
use crate::model::{Page, Subscription};
use crate::ports::StoreResult;
use crate::ports::delivery::{DeliveryStore, EventDeliveries, Recorded, SubscriptionState};

/// The latest status of each delivery of an event, from its outcome records.
fn statuses_of(
    outcomes: &Outcomes,
    account: &AccountId,
    event_id: &EventId,
) -> Vec<DeliveryStatus> {
    latest_statuses(
        outcomes
            .get(&(*account, *event_id))
            .into_iter()
            .flatten()
            .flat_map(|(_, records)| records)
            .map(|r| r.status.clone()),
    )
}

impl DeliveryStore for MemoryStore {
    async fn mark_failing(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        at: &Timestamp,
        gap: std::time::Duration,
    ) -> StoreResult<Timestamp> {
        let mut state = self.lock();
        let mark = state
            .failing_since
            .entry((account.to_owned(), subscription_id.to_owned()))
            .or_insert((*at, *at));
        if at.unix_millis() - mark.1.unix_millis()
            > i64::try_from(gap.as_millis()).unwrap_or(i64::MAX)
        {
            mark.0 = *at;
        }
        mark.1 = *at;
        Ok(mark.0)
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

    async fn delivery_subscriptions(
        &self,
        ids: &[(AccountId, SubscriptionId)],
    ) -> StoreResult<Vec<SubscriptionState>> {
        let state = self.lock();
        Ok(ids
            .iter()
            .map(|key| SubscriptionState {
                subscription: state.subscriptions.get(key).cloned(),
                failing: state.failing_since.contains_key(key),
            })
            .collect())
    }

    async fn event_deliveries(
        &self,
        ids: &[(AccountId, EventId)],
    ) -> StoreResult<Vec<EventDeliveries>> {
        let state = self.lock();
        Ok(ids
            .iter()
            .map(|(account, event_id)| EventDeliveries {
                event: state.events.get(&(*account, *event_id)).cloned(),
                statuses: statuses_of(&state.outcomes, account, event_id),
            })
            .collect())
    }

    async fn record_deliveries(&self, records: &[Recorded]) -> StoreResult<()> {
        let mut state = self.lock();
        let mut groups: Vec<((AccountId, EventId), Vec<Recorded>)> = Vec::new();
        for record in records {
            let key = (record.account_id, record.status.event_id);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, group)) => group.push(record.clone()),
                None => groups.push((key, vec![record.clone()])),
            }
        }
        for (key, group) in groups {
            let sk = keys::outcomes(key.1, crate::model::next_ulid());
            state.outcomes.entry(key).or_default().push((sk, group));
        }
        Ok(())
    }

    async fn deliveries_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
    ) -> StoreResult<Vec<DeliveryStatus>> {
        Ok(statuses_of(&self.lock().outcomes, account, event_id))
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
            .outcomes
            .iter()
            .filter(|((a, _), _)| a == account)
            .flat_map(|(_, writes)| writes)
            .flat_map(|(sk, records)| {
                let mut attempts: Vec<Attempt> = records
                    .iter()
                    .filter_map(|r| r.attempt.clone())
                    .filter(|a| a.subscription_id == *subscription_id)
                    .collect();
                attempts.sort_by_key(|a| std::cmp::Reverse(a.attempted_at));
                attempts.into_iter().map(move |a| (sk.clone(), a))
            });
        page(items, keys::OUTCOMES_PREFIX, limit, cursor, true)
    }

    async fn mark_verified(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        challenge: &str,
    ) -> StoreResult<bool> {
        let mut state = self.lock();
        let Some(subscription) = state
            .subscriptions
            .get_mut(&(*account, *subscription_id))
            .filter(|s| {
                s.verification
                    .as_ref()
                    .is_some_and(|v| v.challenge == challenge)
            })
        else {
            return Ok(false);
        };
        subscription.active = true;
        subscription.verification = None;
        subscription.updated_at = crate::model::now();
        Ok(true)
    }

    async fn deactivate(
        &self,
        account: &AccountId,
        disabled: &SubscriptionDisabled,
    ) -> StoreResult<bool> {
        let mut state = self.lock();
        let key = (*account, disabled.subscription_id);
        let Some(subscription) = state
            .subscriptions
            .get_mut(&key)
            .filter(|s| s.active || s.verification.is_some())
        else {
            return Ok(false);
        };
        subscription.active = false;
        subscription.verification = None;
        subscription.disabled_reason = Some(disabled.reason.clone());
        subscription.updated_at = disabled.disabled_at;
        let event = disabled.event(*account);
        state.events.insert((*account, event.id), event);
        Ok(true)
    }
}
