//! Users, photos, subscriptions and events in memory.

use super::{MemoryStore, page};
use crate::adapters::dynamodb::keys;
use crate::model::Timestamp;
use crate::model::{AccountId, EventId, SubscriptionId, UserId};
use crate::model::{Event, Page, Photo, Subscription, User};
use crate::model::{EventHead, Replay, ReplayPart};
use crate::ports::{
    EventStore, Idempotency, PhotoStore, Published, StoreError, StoreResult, SubscriptionStore,
    UserStore,
};

impl UserStore for MemoryStore {
    async fn create_user(
        &self,
        user: &User,
        account: &AccountId,
        event: &Event,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let name_key = (account.to_owned(), user.username.to_lowercase());
        if state.usernames.contains_key(&name_key) {
            return Err(StoreError::Conflict);
        }
        state.usernames.insert(name_key, user.id);
        state
            .users
            .insert((account.to_owned(), user.id), user.clone());
        state
            .events
            .insert((account.to_owned(), event.id), event.clone());
        Ok(())
    }

    async fn get_user(&self, account: &AccountId, id: &UserId) -> StoreResult<Option<User>> {
        Ok(self
            .lock()
            .users
            .get(&(account.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn list_users(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<User>> {
        let state = self.lock();
        let items = state
            .users
            .iter()
            .filter(|((a, _), _)| a == account)
            .map(|((_, id), u)| (keys::user(id), u.clone()));
        page(items, keys::USER_PREFIX, limit, cursor, false)
    }

    async fn update_user(
        &self,
        account: &AccountId,
        previous: &User,
        updated: &User,
        event: &Event,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (account.to_owned(), previous.id);
        match state.users.get(&key) {
            None => return Err(StoreError::NotFound),
            Some(current) if current != previous => return Err(StoreError::Conflict),
            Some(_) => {}
        }
        let old_name = (account.to_owned(), previous.username.to_lowercase());
        let new_name = (account.to_owned(), updated.username.to_lowercase());
        if old_name != new_name {
            if state.usernames.contains_key(&new_name) {
                return Err(StoreError::Conflict);
            }
            state.usernames.remove(&old_name);
            state.usernames.insert(new_name, updated.id);
        }
        state.users.insert(key, updated.clone());
        state
            .events
            .insert((account.to_owned(), event.id), event.clone());
        Ok(())
    }

    async fn delete_user(
        &self,
        account: &AccountId,
        user: &User,
        event: &Event,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        if state.users.remove(&(account.to_owned(), user.id)).is_none() {
            return Err(StoreError::NotFound);
        }
        state
            .usernames
            .remove(&(account.to_owned(), user.username.to_lowercase()));
        state
            .events
            .insert((account.to_owned(), event.id), event.clone());
        Ok(())
    }
}

impl PhotoStore for MemoryStore {
    async fn get_photo(&self, account: &AccountId, photo_id: &str) -> StoreResult<Option<Photo>> {
        let state = self.lock();
        Ok(state
            .photos
            .get(&(account.to_owned(), photo_id.to_owned()))
            .map(|likes| Photo {
                photo_id: photo_id.to_owned(),
                likes: *likes,
            }))
    }

    async fn like_photo(
        &self,
        account: &AccountId,
        photo_id: &str,
        expected: u64,
        event: &Event,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (account.to_owned(), photo_id.to_owned());
        if state.photos.get(&key).copied().unwrap_or(0) != expected {
            return Err(StoreError::Conflict);
        }
        state.photos.insert(key, expected + 1);
        state
            .events
            .insert((account.to_owned(), event.id), event.clone());
        Ok(())
    }
}

impl SubscriptionStore for MemoryStore {
    async fn create_subscription(&self, subscription: &Subscription) -> StoreResult<()> {
        let key = (subscription.account_id, subscription.id);
        match self.lock().subscriptions.entry(key) {
            std::collections::btree_map::Entry::Occupied(_) => Err(StoreError::Conflict),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(subscription.clone());
                Ok(())
            }
        }
    }

    async fn get_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> StoreResult<Option<Subscription>> {
        Ok(self
            .lock()
            .subscriptions
            .get(&(account.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn update_subscription(
        &self,
        subscription: &Subscription,
        expected_updated_at: &Timestamp,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (subscription.account_id, subscription.id);
        match state.subscriptions.get(&key) {
            None => Err(StoreError::NotFound),
            Some(current) if current.updated_at != *expected_updated_at => {
                Err(StoreError::Conflict)
            }
            Some(_) => {
                state.subscriptions.insert(key, subscription.clone());
                Ok(())
            }
        }
    }

    async fn delete_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> StoreResult<()> {
        self.lock()
            .subscriptions
            .remove(&(account.to_owned(), id.to_owned()))
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }

    async fn list_subscriptions(
        &self,
        account: &AccountId,
        matching: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Subscription>> {
        let state = self.lock();
        let items = state
            .subscriptions
            .iter()
            .filter(|((a, _), s)| {
                a == account
                    && matching
                        .is_none_or(|t| crate::domain::event_type::any_matches(&s.event_types, t))
            })
            .map(|((_, id), s)| (keys::subscription(id), s.clone()));
        page(items, keys::SUBSCRIPTION_PREFIX, limit, cursor, false)
    }
}

impl EventStore for MemoryStore {
    async fn publish(
        &self,
        event: &Event,
        idempotency: Option<Idempotency<'_>>,
    ) -> StoreResult<Published> {
        let mut state = self.lock();
        if let Some(idempotency) = idempotency {
            let slot = (event.account_id, idempotency.key.to_owned());
            let now = chrono::Utc::now().timestamp();
            if let Some((existing, until, fingerprint)) = state.idempotency.get(&slot)
                && *until > now
            {
                return Ok(if fingerprint == idempotency.fingerprint {
                    Published::Existing(*existing)
                } else {
                    Published::Reused
                });
            }
            state.idempotency.insert(
                slot,
                (
                    event.id,
                    idempotency.expires_at,
                    idempotency.fingerprint.to_owned(),
                ),
            );
        }
        state
            .events
            .insert((event.account_id, event.id), event.clone());
        Ok(Published::Created)
    }

    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
        Ok(self
            .lock()
            .events
            .get(&(account.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn list_events(
        &self,
        account: &AccountId,
        event_type: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Event>> {
        let state = self.lock();
        let items = state
            .events
            .iter()
            .filter(|((a, _), e)| a == account && event_type.is_none_or(|t| e.event_type == t))
            .map(|((_, id), e)| (keys::event(id), e.clone()));
        page(items, keys::EVENT_PREFIX, limit, cursor, true)
    }

    async fn event_heads(
        &self,
        account: &AccountId,
        since: Timestamp,
        until: Timestamp,
        keep: &(dyn Fn(&EventHead) -> bool + Sync),
        limit: usize,
    ) -> StoreResult<Vec<EventHead>> {
        let ms = |at: Timestamp| u64::try_from(at.unix_millis()).unwrap_or_default();
        let from = (*account, EventId::from_parts(ms(since), 0));
        let to = (*account, EventId::from_parts(ms(until), u128::MAX));
        let state = self.lock();
        Ok(state
            .events
            .range(from..=to)
            .map(|(_, e)| EventHead {
                id: e.id,
                event_type: e.event_type.clone(),
                subscription_id: e.subscription_id,
            })
            .filter(|head| keep(head))
            .take(limit)
            .collect())
    }

    async fn start_replay(
        &self,
        replay: &Replay,
        parts: &[ReplayPart],
    ) -> StoreResult<Option<Replay>> {
        let mut state = self.lock();
        let key = (replay.account_id, replay.id.clone());
        if let Some(existing) = state.replays.get(&key) {
            return Ok(Some(existing.clone()));
        }
        state.replays.insert(key, replay.clone());
        state.replay_parts.extend_from_slice(parts);
        Ok(None)
    }
}
