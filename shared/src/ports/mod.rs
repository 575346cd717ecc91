//! The storage the use-cases need, split by capability. `adapters::dynamodb` implements them on
//! DynamoDB (each change and its event in one `TransactWriteItems`); `adapters::memory` in
//! memory, for handler tests.

use crate::model::{
    Account, AccountId, ApiKey, ApiKeyId, Event, EventHead, EventId, KeyOwner, Page, Photo, Replay,
    ReplayPart, SeenEventType, Subscription, SubscriptionId, Timestamp, User, UserId,
};
use std::future::Future;

pub mod attempts;
pub mod delivery;
mod error;
pub mod portal;
pub mod recipients;
pub mod resolver;
pub mod streams;

pub use error::{StoreError, StoreResult};

/// Every store port at once: what the HTTP API's use-cases are generic over.
pub trait Stores:
    AccountStore
    + UserStore
    + PhotoStore
    + SubscriptionStore
    + EventStore
    + EventTypeStore
    + SampleEventStore
    + portal::PortalStore
    + attempts::AttemptLog
    + delivery::DeliveryStore
{
}

impl<T> Stores for T where
    T: AccountStore
        + UserStore
        + PhotoStore
        + SubscriptionStore
        + EventStore
        + EventTypeStore
        + SampleEventStore
        + portal::PortalStore
        + attempts::AttemptLog
        + delivery::DeliveryStore
{
}

/// Result of publishing an event with an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    Created,
    /// The key was used within its lifetime, for the same request: the first event's id.
    Existing(EventId),
    /// The key was used within its lifetime for another request: nothing was written.
    Reused,
}

/// An `Idempotency-Key` as `publish` keeps it: until when (Unix seconds), and a fingerprint of
/// the request it came with, so a reuse with another request is told apart from a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Idempotency<'a> {
    pub key: &'a str,
    pub expires_at: i64,
    pub fingerprint: &'a str,
}

pub trait AccountStore: Send + Sync {
    /// Creates the account with its first key.
    fn create_account(
        &self,
        account: &Account,
        key: &ApiKey,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The owner of an API key (by hash), unless the key was revoked or its account disabled.
    fn account_for_key(
        &self,
        key_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<KeyOwner>>> + Send;
    /// Adds a key to an existing account.
    fn create_api_key(&self, key: &ApiKey) -> impl Future<Output = StoreResult<()>> + Send;
    /// The account's keys, oldest first.
    fn list_api_keys(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = StoreResult<Page<ApiKey>>> + Send;
    /// Deletes a key: refused from the next request on. `NotFound` when there is none.
    fn revoke_api_key(
        &self,
        account: &AccountId,
        id: &ApiKeyId,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Notes that a key was used at `at` (no error when it is gone).
    fn note_key_use(
        &self,
        account: &AccountId,
        id: &ApiKeyId,
        at: Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Disables or enables the account and every key of it; the account as it is now.
    /// `NotFound` when there is none.
    fn set_account_disabled(
        &self,
        account: &AccountId,
        disabled: bool,
    ) -> impl Future<Output = StoreResult<Account>> + Send;
}

pub trait UserStore: Send + Sync {
    /// Creates the user and writes `event`, atomically. `Conflict` when the username is taken.
    fn create_user(
        &self,
        user: &User,
        account: &AccountId,
        event: &Event,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_user(
        &self,
        account: &AccountId,
        id: &UserId,
    ) -> impl Future<Output = StoreResult<Option<User>>> + Send;
    fn list_users(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = StoreResult<Page<User>>> + Send;
    /// Replaces `previous` with `updated` and writes `event`, atomically. `Conflict` when the new
    /// username is taken or the user changed since `previous` was read; `NotFound` when it is gone.
    fn update_user(
        &self,
        account: &AccountId,
        previous: &User,
        updated: &User,
        event: &Event,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes the user and writes `event`, atomically.
    fn delete_user(
        &self,
        account: &AccountId,
        user: &User,
        event: &Event,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

pub trait PhotoStore: Send + Sync {
    fn get_photo(
        &self,
        account: &AccountId,
        photo_id: &str,
    ) -> impl Future<Output = StoreResult<Option<Photo>>> + Send;
    /// Sets the photo's likes from `expected` to `expected + 1` and writes `event`, atomically;
    /// `Conflict` when the count is no longer `expected`.
    fn like_photo(
        &self,
        account: &AccountId,
        photo_id: &str,
        expected: u64,
        event: &Event,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

pub trait SubscriptionStore: Send + Sync {
    fn create_subscription(
        &self,
        subscription: &Subscription,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn get_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> impl Future<Output = StoreResult<Option<Subscription>>> + Send;
    /// Replaces the subscription if its `updated_at` is still `expected_updated_at`.
    fn update_subscription(
        &self,
        subscription: &Subscription,
        expected_updated_at: &Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// `NotFound` when there was none.
    fn delete_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// With `matching`, only the subscriptions whose filters match that event type.
    fn list_subscriptions(
        &self,
        account: &AccountId,
        matching: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = StoreResult<Page<Subscription>>> + Send;
}

pub trait EventStore: Send + Sync {
    /// Writes a standalone event; with an idempotency key, atomically with the key's record
    /// (expiring at `key_expires_at`, unix seconds), or returns the event that key already made.
    fn publish(
        &self,
        event: &Event,
        idempotency: Option<Idempotency<'_>>,
    ) -> impl Future<Output = StoreResult<Published>> + Send;
    fn get_event(
        &self,
        account: &AccountId,
        id: &EventId,
    ) -> impl Future<Output = StoreResult<Option<Event>>> + Send;
    /// Newest first, optionally only of one type.
    fn list_events(
        &self,
        account: &AccountId,
        event_type: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = StoreResult<Page<Event>>> + Send;
    /// The account's events whose id was made from `since` to `until` (their `created_at`),
    /// oldest first, without their data; those `keep` accepts, at most `limit`.
    fn event_heads(
        &self,
        account: &AccountId,
        since: Timestamp,
        until: Timestamp,
        keep: &(dyn Fn(&EventHead) -> bool + Sync),
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<EventHead>>> + Send;
    /// Writes `replay` and its `parts` (whose stream records fan-out turns into deliveries),
    /// atomically. When a replay of that id exists, writes nothing and returns it.
    fn start_replay(
        &self,
        replay: &Replay,
        parts: &[ReplayPart],
    ) -> impl Future<Output = StoreResult<Option<Replay>>> + Send;
}

/// The event types each account's events had (the catalog's custom part).
pub trait EventTypeStore: Send + Sync {
    /// Records that events of `seen.event_type` were seen from `seen.first_seen` to
    /// `seen.last_seen`: a new type is added; a known one keeps its first sighting and moves its
    /// last one forward (never back).
    fn note_event_type(&self, seen: &SeenEventType)
    -> impl Future<Output = StoreResult<()>> + Send;
    /// The account's types, by name.
    fn list_event_types(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = StoreResult<Page<SeenEventType>>> + Send;
}

/// The accounts that asked for sample events, each with its period in seconds.
pub trait SampleEventStore: Send + Sync {
    /// `Some(period)`: the account gets samples at that period; `None`: no more.
    fn set_sample_events(
        &self,
        account: &AccountId,
        period: Option<u32>,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn sample_events(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = StoreResult<Option<u32>>> + Send;
    /// Every account that gets samples, with its period.
    fn sample_accounts(&self) -> impl Future<Output = StoreResult<Vec<(AccountId, u32)>>> + Send;
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    #[error("the secret has no value")]
    Empty,
    /// The secret store failed; the text is for logs only.
    #[error("secret store failed: {0}")]
    Backend(String),
}

/// Where a deployment keeps a secret it generated (the admin API key), read once per cold start.
pub trait SecretSource: Send + Sync {
    fn read(&self) -> impl Future<Output = Result<String, SecretError>> + Send;
}
