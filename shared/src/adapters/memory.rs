//! The ports in memory, for handler tests. Each operation takes one lock, so every change and
//! its event happen together, as in the DynamoDB adapter's transactions.

use crate::model::delivery::{Attempt, DeliveryStatus};
use crate::model::{Account, Event, Page, Photo, Subscription, User, decode_cursor, encode_cursor};
use crate::ports::delivery::{DeliveryContext, DeliveryKey, DeliveryStore, Recorded};
use crate::ports::{
    AccountStore, EventStore, PhotoStore, Published, StoreError, StoreResult, SubscriptionStore,
    UserStore,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct State {
    accounts: HashMap<String, Account>,
    keys: HashMap<String, String>,
    users: BTreeMap<(String, String), User>,
    usernames: HashMap<(String, String), String>,
    photos: HashMap<(String, String), u64>,
    subscriptions: BTreeMap<(String, String), Subscription>,
    events: BTreeMap<(String, String), Event>,
    idempotency: HashMap<(String, String), (String, i64)>,
    deliveries: BTreeMap<(String, String, String), DeliveryStatus>,
    attempts: Vec<(String, Attempt)>,
    failing_since: HashMap<(String, String), String>,
}

/// All ports in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every event written, oldest first (for assertions).
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        let mut events: Vec<Event> = self.lock().events.values().cloned().collect();
        events.sort_by(|a, b| a.id.cmp(&b.id));
        events
    }
}

/// A page of `items` keyed by id; cursors carry `prefix` + id, as the DynamoDB adapter's sort
/// keys do, and are refused when they do not.
fn page<T: Clone>(
    items: impl Iterator<Item = (String, T)>,
    prefix: &str,
    limit: usize,
    cursor: Option<&str>,
    descending: bool,
) -> StoreResult<Page<T>> {
    let after = cursor
        .map(|c| {
            decode_cursor(c)
                .filter(|key| key.starts_with(prefix))
                .ok_or(StoreError::InvalidCursor)
        })
        .transpose()?;
    let mut all: Vec<(String, T)> = items
        .map(|(id, item)| (format!("{prefix}{id}"), item))
        .collect();
    all.sort_by(|a, b| {
        if descending {
            b.0.cmp(&a.0)
        } else {
            a.0.cmp(&b.0)
        }
    });
    let remaining: Vec<(String, T)> = all
        .into_iter()
        .filter(|(key, _)| {
            after
                .as_ref()
                .is_none_or(|after| if descending { key < after } else { key > after })
        })
        .collect();
    let more = remaining.len() > limit;
    let taken: Vec<(String, T)> = remaining.into_iter().take(limit).collect();
    let next_cursor = if more {
        taken.last().map(|(key, _)| encode_cursor(key))
    } else {
        None
    };
    Ok(Page {
        items: taken.into_iter().map(|(_, item)| item).collect(),
        next_cursor,
    })
}

impl AccountStore for MemoryStore {
    async fn create_account(&self, account: &Account, key_hash: &str) -> StoreResult<()> {
        let mut state = self.lock();
        state.accounts.insert(account.id.clone(), account.clone());
        state.keys.insert(key_hash.to_owned(), account.id.clone());
        Ok(())
    }

    async fn account_for_key(&self, key_hash: &str) -> StoreResult<Option<String>> {
        Ok(self.lock().keys.get(key_hash).cloned())
    }
}

impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User, account: &str, event: &Event) -> StoreResult<()> {
        let mut state = self.lock();
        let name_key = (account.to_owned(), user.username.to_lowercase());
        if state.usernames.contains_key(&name_key) {
            return Err(StoreError::Conflict);
        }
        state.usernames.insert(name_key, user.id.clone());
        state
            .users
            .insert((account.to_owned(), user.id.clone()), user.clone());
        state
            .events
            .insert((account.to_owned(), event.id.clone()), event.clone());
        Ok(())
    }

    async fn get_user(&self, account: &str, id: &str) -> StoreResult<Option<User>> {
        Ok(self
            .lock()
            .users
            .get(&(account.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn list_users(
        &self,
        account: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<User>> {
        let state = self.lock();
        let items = state
            .users
            .iter()
            .filter(|((a, _), _)| a == account)
            .map(|((_, id), u)| (id.clone(), u.clone()));
        page(items, "USER#", limit, cursor, false)
    }

    async fn update_user(
        &self,
        account: &str,
        previous: &User,
        updated: &User,
        event: &Event,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (account.to_owned(), previous.id.clone());
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
            state.usernames.insert(new_name, updated.id.clone());
        }
        state.users.insert(key, updated.clone());
        state
            .events
            .insert((account.to_owned(), event.id.clone()), event.clone());
        Ok(())
    }

    async fn delete_user(&self, account: &str, user: &User, event: &Event) -> StoreResult<()> {
        let mut state = self.lock();
        if state
            .users
            .remove(&(account.to_owned(), user.id.clone()))
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        state
            .usernames
            .remove(&(account.to_owned(), user.username.to_lowercase()));
        state
            .events
            .insert((account.to_owned(), event.id.clone()), event.clone());
        Ok(())
    }
}

impl PhotoStore for MemoryStore {
    async fn get_photo(&self, account: &str, photo_id: &str) -> StoreResult<Option<Photo>> {
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
        account: &str,
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
            .insert((account.to_owned(), event.id.clone()), event.clone());
        Ok(())
    }
}

impl SubscriptionStore for MemoryStore {
    async fn create_subscription(&self, subscription: &Subscription) -> StoreResult<()> {
        let key = (subscription.account_id.clone(), subscription.id.clone());
        self.lock().subscriptions.insert(key, subscription.clone());
        Ok(())
    }

    async fn get_subscription(&self, account: &str, id: &str) -> StoreResult<Option<Subscription>> {
        Ok(self
            .lock()
            .subscriptions
            .get(&(account.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn update_subscription(
        &self,
        subscription: &Subscription,
        expected_updated_at: &str,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (subscription.account_id.clone(), subscription.id.clone());
        match state.subscriptions.get(&key) {
            None => Err(StoreError::NotFound),
            Some(current) if current.updated_at != expected_updated_at => Err(StoreError::Conflict),
            Some(_) => {
                state.subscriptions.insert(key, subscription.clone());
                Ok(())
            }
        }
    }

    async fn delete_subscription(&self, account: &str, id: &str) -> StoreResult<()> {
        self.lock()
            .subscriptions
            .remove(&(account.to_owned(), id.to_owned()))
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }

    async fn list_subscriptions(
        &self,
        account: &str,
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
            .map(|((_, id), s)| (id.clone(), s.clone()));
        page(items, "SUB#", limit, cursor, false)
    }
}

impl EventStore for MemoryStore {
    async fn publish(
        &self,
        event: &Event,
        idempotency_key: Option<(&str, i64)>,
    ) -> StoreResult<Published> {
        let mut state = self.lock();
        if let Some((key, expires_at)) = idempotency_key {
            let slot = (event.account_id.clone(), key.to_owned());
            let now = chrono::Utc::now().timestamp();
            if let Some((existing, until)) = state.idempotency.get(&slot)
                && *until > now
            {
                return Ok(Published::Existing(existing.clone()));
            }
            state
                .idempotency
                .insert(slot, (event.id.clone(), expires_at));
        }
        state
            .events
            .insert((event.account_id.clone(), event.id.clone()), event.clone());
        Ok(Published::Created)
    }

    async fn get_event(&self, account: &str, id: &str) -> StoreResult<Option<Event>> {
        Ok(self
            .lock()
            .events
            .get(&(account.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn list_events(
        &self,
        account: &str,
        event_type: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Event>> {
        let state = self.lock();
        let items = state
            .events
            .iter()
            .filter(|((a, _), e)| a == account && event_type.is_none_or(|t| e.event_type == t))
            .map(|((_, id), e)| (id.clone(), e.clone()));
        page(items, "EVT#", limit, cursor, true)
    }
}

impl DeliveryStore for MemoryStore {
    async fn mark_failing(
        &self,
        account: &str,
        subscription_id: &str,
        at: &str,
    ) -> StoreResult<String> {
        let mut state = self.lock();
        let since = state
            .failing_since
            .entry((account.to_owned(), subscription_id.to_owned()))
            .or_insert_with(|| at.to_owned());
        Ok(since.clone())
    }

    async fn mark_healthy(&self, account: &str, subscription_id: &str) -> StoreResult<()> {
        self.lock()
            .failing_since
            .remove(&(account.to_owned(), subscription_id.to_owned()));
        Ok(())
    }

    async fn matching_subscriptions(
        &self,
        account: &str,
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
                let subscription = (k.account_id.clone(), k.subscription_id.clone());
                DeliveryContext {
                    subscription: state.subscriptions.get(&subscription).cloned(),
                    event: state
                        .events
                        .get(&(k.account_id.clone(), k.event_id.clone()))
                        .cloned(),
                    failing: state.failing_since.contains_key(&subscription),
                    status: state
                        .deliveries
                        .get(&(
                            k.account_id.clone(),
                            k.event_id.clone(),
                            k.subscription_id.clone(),
                        ))
                        .cloned(),
                }
            })
            .collect())
    }

    async fn record_deliveries(&self, records: &[Recorded]) -> StoreResult<()> {
        let mut state = self.lock();
        for recorded in records {
            if let Some(attempt) = &recorded.attempt {
                state
                    .attempts
                    .push((recorded.account_id.clone(), attempt.clone()));
            }
            let status = &recorded.status;
            state.deliveries.insert(
                (
                    recorded.account_id.clone(),
                    status.event_id.clone(),
                    status.subscription_id.clone(),
                ),
                status.clone(),
            );
        }
        Ok(())
    }

    async fn deliveries_of_event(
        &self,
        account: &str,
        event_id: &str,
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
        account: &str,
        subscription_id: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Attempt>> {
        let state = self.lock();
        let items = state
            .attempts
            .iter()
            .filter(|(a, attempt)| a == account && attempt.subscription_id == subscription_id)
            .map(|(_, attempt)| {
                let key = format!(
                    "{}#{}#{:02}",
                    attempt.attempted_at, attempt.delivery_id, attempt.attempt
                );
                (key, attempt.clone())
            });
        page(
            items,
            &format!("ATT#{subscription_id}#"),
            limit,
            cursor,
            true,
        )
    }

    async fn deactivate(
        &self,
        account: &str,
        subscription_id: &str,
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

/// A delivery queue that keeps what it is sent, for handler tests.
#[derive(Default)]
pub struct MemoryQueue {
    pub sent: Mutex<Vec<crate::model::delivery::DeliveryMessage>>,
    pub delays: Mutex<Vec<(String, std::time::Duration)>>,
    /// What `send_later` was given, with its delay.
    pub later: Mutex<Vec<(crate::model::delivery::DeliveryMessage, std::time::Duration)>>,
    pub dead_letters: Mutex<Vec<crate::model::delivery::DeliveryMessage>>,
}

impl crate::ports::delivery::DeliveryQueue for MemoryQueue {
    async fn send(
        &self,
        messages: &[crate::model::delivery::DeliveryMessage],
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(messages);
        Ok(())
    }

    async fn redrive(
        &self,
        _max: usize,
    ) -> Result<crate::ports::delivery::Redrive, crate::ports::delivery::QueueError> {
        Ok(crate::ports::delivery::Redrive {
            method: "copy",
            messages: 0,
        })
    }

    async fn delay(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.delays
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((receipt_handle.to_owned(), delay));
        Ok(())
    }

    async fn send_later(
        &self,
        message: &crate::model::delivery::DeliveryMessage,
        delay: std::time::Duration,
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.later
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((message.clone(), delay));
        Ok(())
    }

    async fn dead_letter(
        &self,
        message: &crate::model::delivery::DeliveryMessage,
    ) -> Result<(), crate::ports::delivery::QueueError> {
        self.dead_letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message.clone());
        Ok(())
    }
}

/// A webhook sender that records requests and answers with a fixed status, for handler tests.
pub struct RecordingSender {
    pub status: u16,
    /// The `Retry-After` it answers with.
    pub retry_after: Option<std::time::Duration>,
    pub requests: Mutex<Vec<crate::ports::delivery::WebhookRequest>>,
}

impl RecordingSender {
    #[must_use]
    pub fn answering(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            requests: Mutex::new(Vec::new()),
        }
    }
}

impl crate::ports::delivery::WebhookSender for RecordingSender {
    async fn post(
        &self,
        request: &crate::ports::delivery::WebhookRequest,
    ) -> crate::ports::delivery::WebhookResponse {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request.clone());
        crate::ports::delivery::WebhookResponse {
            status: Some(self.status),
            error: None,
            retry_after: self.retry_after,
            body: Some(String::new()),
        }
    }
}

/// A secret held in memory, for handler tests.
pub struct FixedSecret(pub String);

impl crate::ports::SecretSource for FixedSecret {
    async fn read(&self) -> Result<String, crate::ports::SecretError> {
        if self.0.trim().is_empty() {
            return Err(crate::ports::SecretError::Empty);
        }
        Ok(self.0.clone())
    }
}
