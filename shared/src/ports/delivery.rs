//! What the delivery pipeline needs: the delivery queue, the store of statuses and attempts, and
//! the webhook sender.

use super::error::StoreError;
use crate::model::delivery::{Attempt, DeliveryMessage, DeliveryStatus};
use crate::model::operational::SubscriptionDisabled;
use crate::model::{AccountId, Event, EventId, Page, Subscription, SubscriptionId, Timestamp};
use serde::Serialize;
use std::future::Future;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue service failed; the text is for logs only.
    #[error("queue failed: {0}")]
    Backend(String),
}

/// A delivery message as the queue handed it over (`functions/deliver` reads it out of the SQS
/// event).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The queue's id of the message, to report it as not done.
    pub id: Option<String>,
    /// The [`DeliveryMessage`] as JSON.
    pub body: Option<String>,
    /// The handle that changes this receive's visibility.
    pub receipt_handle: Option<String>,
    /// When the queue first handed the message over.
    pub first_receive: Option<std::time::SystemTime>,
    /// How often the queue handed it over, this time included.
    pub receive_count: u32,
}

/// The delivery queue.
pub trait DeliveryQueue: Send + Sync {
    /// Enqueues every message (in batches of 10, retrying entries a batch reports as failed).
    fn send(
        &self,
        messages: &[DeliveryMessage],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Hides a received message for `delay` (its next attempt).
    fn delay(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Enqueues one message that becomes visible after `delay` (at most 15 min).
    fn send_later(
        &self,
        message: &DeliveryMessage,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Puts a delivery that used its last attempt on the dead-letter queue.
    fn dead_letter(
        &self,
        message: &DeliveryMessage,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// Moves dead-lettered deliveries back onto the queue (at most `max` when copied one by one).
    fn redrive(&self, max: usize) -> impl Future<Output = Result<Redrive, QueueError>> + Send;
}

/// How a redrive was done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redrive {
    /// `move_task` (SQS's `StartMessageMoveTask`, which runs on) or `copy` (receive, send, delete).
    pub method: &'static str,
    /// Messages moved, when copied; for a move task, the dead-letter count when it started.
    pub messages: u64,
}

/// Which delivery: the account, the event and the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub account_id: AccountId,
    pub event_id: EventId,
    pub subscription_id: SubscriptionId,
}

impl DeliveryKey {
    /// The delivery of `message`'s event to `subscription_id`.
    #[must_use]
    pub const fn of(message: &DeliveryMessage, subscription_id: SubscriptionId) -> Self {
        Self {
            account_id: message.account_id,
            event_id: message.event_id,
            subscription_id,
        }
    }

    /// The delivery id (see [`crate::model::delivery::delivery_id`]).
    #[must_use]
    pub fn delivery_id(&self) -> String {
        crate::model::delivery::delivery_id(self.event_id, self.subscription_id)
    }
}

/// A delivery's new status, with the attempt that led to it (none for a skip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub account_id: AccountId,
    pub attempt: Option<Attempt>,
    pub status: DeliveryStatus,
}

/// A subscription as `deliver` reads it: the record and its failing mark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionState {
    pub subscription: Option<Subscription>,
    /// Whether the subscription is marked failing (`mark_failing` without `mark_healthy` since).
    pub failing: bool,
}

/// An event as `deliver` reads it: the event and the latest status of each of its deliveries.
#[derive(Debug, Clone, Default)]
pub struct EventDeliveries {
    pub event: Option<Event>,
    pub statuses: Vec<DeliveryStatus>,
}

/// What one delivery reads before it is sent.
#[derive(Debug, Clone, Default)]
pub struct DeliveryContext {
    pub subscription: Option<Subscription>,
    pub event: Option<Event>,
    /// The delivery's latest status, if it has one.
    pub status: Option<DeliveryStatus>,
    /// Whether the subscription is marked failing (`mark_failing` without `mark_healthy` since).
    pub failing: bool,
}

/// What the delivery pipeline keeps: statuses, attempts, and subscription deactivation.
pub trait DeliveryStore: Send + Sync {
    /// Notes that a delivery to the subscription failed at `at`; returns since when its
    /// deliveries have all been failing: this failure's time when it is the first, or when the
    /// previous one is more than `gap` before it (the window restarts).
    fn mark_failing(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        at: &Timestamp,
        gap: Duration,
    ) -> impl Future<Output = Result<Timestamp, StoreError>> + Send;
    /// Notes that a delivery to the subscription succeeded.
    fn mark_healthy(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every active-or-not subscription of an account whose filters match `event_type`, in as
    /// few reads as the store allows (DynamoDB: one Query page per MB).
    fn matching_subscriptions(
        &self,
        account: &AccountId,
        event_type: &str,
    ) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;
    /// Subscriptions with their failing marks, in the order of `ids`, each asked once, in as
    /// few reads as the store allows (DynamoDB: eventually consistent `BatchGetItem`s). A
    /// subscription reported missing or inactive may only not have been replicated yet:
    /// `deliver` confirms with a strong read before skipping.
    fn delivery_subscriptions(
        &self,
        ids: &[(AccountId, SubscriptionId)],
    ) -> impl Future<Output = Result<Vec<SubscriptionState>, StoreError>> + Send;
    /// Events with the latest status of each of their deliveries, in the order of `ids`
    /// (DynamoDB: one `BatchGetItem` for the events, one `Query` per event for the statuses).
    fn event_deliveries(
        &self,
        ids: &[(AccountId, EventId)],
    ) -> impl Future<Output = Result<Vec<EventDeliveries>, StoreError>> + Send;
    /// Writes the statuses and attempts of a batch of deliveries, appending, never overwriting
    /// (DynamoDB: the records of one event in one item, with compact entries for deliveries
    /// that succeeded: about 1 write unit for ten).
    fn record_deliveries(
        &self,
        records: &[Recorded],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The latest status of each delivery of an event.
    fn deliveries_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
    ) -> impl Future<Output = Result<Vec<DeliveryStatus>, StoreError>> + Send;
    /// Newest event first, and each event's attempts newest first.
    fn attempts_of_subscription(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Attempt>, StoreError>> + Send;
    /// Activates a subscription that waits for `challenge` (its receiver echoed it); whether it
    /// did (not when it waits for another challenge, was verified already, or is gone).
    fn mark_verified(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        challenge: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Sets `active = false` with the reason (ending any verification) and writes the
    /// `subscription.disabled` event that says so, atomically, when the subscription is active or
    /// waits for verification; whether it did (not when it is gone or already off, so two
    /// containers disabling it emit one event).
    fn deactivate(
        &self,
        account: &AccountId,
        disabled: &SubscriptionDisabled,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// A signed POST to send. Its `Debug` names the headers without their values (a signature, a
/// subscription's own credentials) and leaves the body out.
#[derive(Clone)]
pub struct WebhookRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRequest")
            .field("url", &self.url)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    pub body: Option<String>,
}

/// Sends webhooks.
pub trait WebhookSender: Send + Sync {
    fn post(&self, request: &WebhookRequest) -> impl Future<Output = WebhookResponse> + Send;
}
