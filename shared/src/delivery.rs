//! Fan-out and delivery: from a new event to one queued delivery per matching active
//! subscription, and from a queued delivery to a signed POST with retries.

use crate::domain::retry::RetrySchedule;
use crate::domain::signature;
use crate::domain::target::{Resolver, TargetPolicy};
use crate::model::{Event, Page, Subscription, now};
use crate::ports::{EventStore, StoreError, SubscriptionStore};
use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::time::Duration;

/// What a delivery message on the queue carries: ids only, so any payload size fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub delivery_id: String,
    pub account_id: String,
    pub event_id: String,
    pub subscription_id: String,
    /// A resend: deliver even if this delivery succeeded before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
}

/// The delivery id of an (event, subscription) pair: the same however often the pair is fanned
/// out, so a re-processed stream record never makes a second logical delivery.
#[must_use]
pub fn delivery_id(event_id: &str, subscription_id: &str) -> String {
    let digest = Sha256::digest(format!("{event_id}:{subscription_id}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("dlv_{hex}")
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Retrying,
    Failed,
    Skipped,
}

/// The latest state of one delivery (one per event and subscription).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    pub delivery_id: String,
    pub event_id: String,
    pub subscription_id: String,
    pub status: DeliveryState,
    pub attempts: u32,
    pub updated_at: String,
    #[serde(default)]
    pub next_attempt_at: Option<String>,
}

/// One attempt, as the attempt log keeps it (30 days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub delivery_id: String,
    pub event_id: String,
    pub subscription_id: String,
    pub attempt: u32,
    pub attempted_at: String,
    /// The receiver's status code, when it answered.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Why there is no usable answer: `timeout`, `connect`, `refused_target`, `redirect`, …
    #[serde(default)]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The response body, cut to 4 KB.
    #[serde(default)]
    pub response_body: Option<String>,
    pub outcome: DeliveryState,
    #[serde(default)]
    pub next_attempt_at: Option<String>,
}

pub const RESPONSE_EXCERPT_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
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

/// What the delivery pipeline keeps: statuses, attempts, and subscription deactivation.
pub trait DeliveryStore: Send + Sync {
    /// Every active-or-not subscription of an account whose filters match `event_type`, in as
    /// few reads as the store allows (DynamoDB: one Query page per MB).
    fn matching_subscriptions(
        &self,
        account: &str,
        event_type: &str,
    ) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;
    fn delivery_status(
        &self,
        account: &str,
        event_id: &str,
        subscription_id: &str,
    ) -> impl Future<Output = Result<Option<DeliveryStatus>, StoreError>> + Send;
    /// Records an attempt and the delivery's new status together.
    fn record_attempt(
        &self,
        account: &str,
        attempt: &Attempt,
        status: &DeliveryStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a status without an attempt (pending, skipped).
    fn record_status(
        &self,
        account: &str,
        status: &DeliveryStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn deliveries_of_event(
        &self,
        account: &str,
        event_id: &str,
    ) -> impl Future<Output = Result<Vec<DeliveryStatus>, StoreError>> + Send;
    /// Newest first.
    fn attempts_of_subscription(
        &self,
        account: &str,
        subscription_id: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page<Attempt>, StoreError>> + Send;
    /// Sets `active = false` with a reason (no-op when the subscription is gone).
    fn deactivate(
        &self,
        account: &str,
        subscription_id: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A signed POST to send.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
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

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

// ------------------------------------------------------------------------------------ fan-out

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
        .map(|s| DeliveryMessage {
            delivery_id: delivery_id(&event.id, &s.id),
            account_id: event.account_id.clone(),
            event_id: event.id.clone(),
            subscription_id: s.id.clone(),
            force: false,
        })
        .collect();
    queue.send(&messages).await?;
    Ok(messages.len())
}

// ------------------------------------------------------------------------------------ delivery

/// What `deliver` knows besides its ports.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub schedule: RetrySchedule,
    pub targets: TargetPolicy,
    /// A subscription whose deliveries have all failed for this long is deactivated.
    pub disable_after: Duration,
}

/// What to do with the queue message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Done (delivered, skipped, gone): delete the message.
    Done,
    /// Try again after this long: hide the message and report it failed.
    RetryAfter(Duration),
}

/// Delivers one message on its `attempt` (SQS's receive count).
///
/// # Errors
/// The store failed; the message stays on the queue and is retried.
pub async fn deliver<S, W, R>(
    store: &S,
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    message: &DeliveryMessage,
    attempt: u32,
    jitter: f64,
) -> Result<Disposition, PipelineError>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    let account = &message.account_id;
    let status = |state: DeliveryState, attempts: u32, next: Option<String>| DeliveryStatus {
        delivery_id: message.delivery_id.clone(),
        event_id: message.event_id.clone(),
        subscription_id: message.subscription_id.clone(),
        status: state,
        attempts,
        updated_at: now(),
        next_attempt_at: next,
    };
    let subscription = store
        .get_subscription(account, &message.subscription_id)
        .await?;
    let event = store.get_event(account, &message.event_id).await?;
    let (Some(subscription), Some(event)) = (subscription.filter(|s| s.active), event) else {
        store
            .record_status(
                account,
                &status(DeliveryState::Skipped, attempt.saturating_sub(1), None),
            )
            .await?;
        tracing::info!(delivery_id = %message.delivery_id, event_id = %message.event_id, subscription_id = %message.subscription_id, attempt, status = "skipped", "delivery");
        return Ok(Disposition::Done);
    };
    if !message.force
        && let Some(previous) = store
            .delivery_status(account, &event.id, &subscription.id)
            .await?
        && previous.status == DeliveryState::Delivered
    {
        return Ok(Disposition::Done);
    }

    let started = std::time::Instant::now();
    let response = send(sender, resolver, settings, &subscription, &event).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let attempted_at = now();
    let delivered = response.status.is_some_and(|s| (200..300).contains(&s));
    let gone = response.status == Some(410);
    let retry = if delivered || gone {
        None
    } else {
        settings.schedule.delay(
            attempt,
            jitter,
            response
                .retry_after
                .filter(|_| matches!(response.status, Some(429 | 503))),
        )
    };
    let outcome = match (delivered, gone, retry) {
        (true, _, _) => DeliveryState::Delivered,
        (_, _, Some(_)) => DeliveryState::Retrying,
        _ => DeliveryState::Failed,
    };
    let next_attempt_at = retry.map(|d| {
        (chrono::Utc::now()
            + chrono::Duration::milliseconds(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    });
    let record = Attempt {
        delivery_id: message.delivery_id.clone(),
        event_id: event.id.clone(),
        subscription_id: subscription.id.clone(),
        attempt,
        attempted_at,
        status_code: response.status,
        error: response.error.clone(),
        duration_ms,
        response_body: response.body.clone(),
        outcome,
        next_attempt_at: next_attempt_at.clone(),
    };
    store
        .record_attempt(account, &record, &status(outcome, attempt, next_attempt_at))
        .await?;
    tracing::info!(
        delivery_id = %message.delivery_id,
        event_id = %event.id,
        subscription_id = %subscription.id,
        attempt,
        status = ?outcome,
        status_code = response.status,
        error = response.error.as_deref(),
        duration_ms,
        "delivery"
    );
    if gone {
        store
            .deactivate(account, &subscription.id, "the endpoint answered 410 Gone")
            .await?;
    } else if outcome == DeliveryState::Failed {
        tracing::warn!(delivery_id = %message.delivery_id, attempts = attempt, "delivery exhausted its attempts; SQS moves it to the dead-letter queue");
    }
    Ok(match retry {
        Some(delay) => Disposition::RetryAfter(delay),
        // Exhausted: stay on the queue, visible at once, so SQS's redrive moves it to the DLQ.
        None if outcome == DeliveryState::Failed && !gone => {
            Disposition::RetryAfter(Duration::ZERO)
        }
        None => Disposition::Done,
    })
}

/// Builds, checks and sends the signed request.
async fn send<W: WebhookSender, R: Resolver>(
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    subscription: &Subscription,
    event: &Event,
) -> WebhookResponse {
    let refused = |error: String| WebhookResponse {
        status: None,
        error: Some(error),
        retry_after: None,
        body: None,
    };
    if let Err(error) = settings.targets.check(&subscription.url, resolver).await {
        return refused(format!("refused_target: {error}"));
    }
    let body = event.representation().to_string().into_bytes();
    let timestamp = chrono::Utc::now().timestamp();
    let current = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let secrets: Vec<&str> = subscription
        .secrets
        .iter()
        .filter(|s| {
            s.expires_at
                .as_deref()
                .is_none_or(|until| until > current.as_str())
        })
        .map(|s| s.secret.as_str())
        .collect();
    let signature = match signature::sign(&secrets, &event.id, timestamp, &body) {
        Ok(signature) => signature,
        Err(error) => return refused(format!("signing: {error}")),
    };
    let request = WebhookRequest {
        url: subscription.url.clone(),
        headers: vec![
            ("content-type", "application/json".to_owned()),
            ("user-agent", format!("{} (+webhooks)", crate::PRODUCT)),
            ("webhook-id", event.id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ],
        body,
    };
    sender.post(&request).await
}

// ------------------------------------------------------------------------------------ batches

/// Whether a stream record is the insert of an event item (the outbox row).
#[must_use]
pub fn is_event_insert(record: &EventRecord) -> bool {
    record.event_name == "INSERT"
        && matches!(record.change.new_image.get("entity"), Some(serde_dynamo::AttributeValue::S(s)) if s == "event")
}

/// Fans out a stream batch in order. At the first record that fails, that record and every later
/// one are reported in `batchItemFailures` (Lambda retries from the lowest), so order holds and
/// nothing is skipped; records that are not event inserts are passed over.
pub async fn fan_out_records<S, Q>(
    store: &S,
    queue: &Q,
    records: &[EventRecord],
) -> DynamoDbEventResponse
where
    S: DeliveryStore + SubscriptionStore,
    Q: DeliveryQueue,
{
    let mut response = DynamoDbEventResponse::default();
    for (index, record) in records.iter().enumerate() {
        if !is_event_insert(record) {
            continue;
        }
        let outcome =
            match crate::adapters::dynamodb::event_from_item(record.change.new_image.clone()) {
                Ok(event) => fan_out(store, queue, &event)
                    .await
                    .map(|count| (event, count)),
                Err(error) => Err(PipelineError::Store(error)),
            };
        match outcome {
            Ok((event, count)) => {
                tracing::info!(event_id = %event.id, event_type = %event.event_type, deliveries = count, "fanned out");
            }
            Err(error) => {
                tracing::error!(%error, sequence = ?record.change.sequence_number, "fan-out failed; the stream will retry from here");
                for failed in &records[index..] {
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure
                        .item_identifier
                        .clone_from(&failed.change.sequence_number);
                    response.batch_item_failures.push(failure);
                }
                break;
            }
        }
    }
    response
}

/// Everything `deliver` works with.
pub struct Pipeline<S, Q, W, R> {
    pub store: S,
    pub queue: Q,
    pub sender: W,
    pub resolver: R,
    pub settings: DeliverySettings,
}

/// A number in [-1, 1] for the retry jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    crate::domain::secrets::fill_random(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}

impl<S, Q, W, R> Pipeline<S, Q, W, R>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    Q: DeliveryQueue,
    W: WebhookSender,
    R: Resolver,
{
    /// Delivers an SQS batch concurrently. Messages to retry are hidden for their backoff and
    /// reported in `batchItemFailures`; the rest are acknowledged.
    pub async fn deliver_batch(&self, messages: &[SqsMessage]) -> SqsBatchResponse {
        let outcomes =
            futures::future::join_all(messages.iter().map(|m| self.deliver_one(m))).await;
        let mut response = SqsBatchResponse::default();
        for (message, keep) in messages.iter().zip(outcomes) {
            if keep && let Some(id) = &message.message_id {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier.clone_from(id);
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// Whether the message stays on the queue.
    async fn deliver_one(&self, message: &SqsMessage) -> bool {
        let Some(parsed) = message
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<DeliveryMessage>(b).ok())
        else {
            // Unreadable: keep it, so it ends in the dead-letter queue for a person to look at.
            tracing::error!(message_id = ?message.message_id, "delivery message is not a DeliveryMessage");
            return true;
        };
        let attempt = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        match deliver(
            &self.store,
            &self.sender,
            &self.resolver,
            &self.settings,
            &parsed,
            attempt,
            jitter(),
        )
        .await
        {
            Ok(Disposition::Done) => false,
            Ok(Disposition::RetryAfter(delay)) => {
                if let Some(handle) = &message.receipt_handle
                    && let Err(error) = self.queue.delay(handle, delay).await
                {
                    tracing::warn!(%error, delivery_id = %parsed.delivery_id, "could not set the backoff; the queue's visibility timeout applies");
                }
                true
            }
            Err(error) => {
                tracing::error!(%error, delivery_id = %parsed.delivery_id, "delivery failed before sending; retried after the visibility timeout");
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_are_deterministic_per_pair() {
        assert_eq!(delivery_id("evt_1", "sub_1"), delivery_id("evt_1", "sub_1"));
        assert_ne!(delivery_id("evt_1", "sub_1"), delivery_id("evt_1", "sub_2"));
        assert_ne!(delivery_id("evt_1", "sub_1"), delivery_id("evt_2", "sub_1"));
        // SHA-256("evt_1:sub_1"), first 16 bytes.
        assert!(
            delivery_id("evt_1", "sub_1").starts_with("dlv_")
                && delivery_id("evt_1", "sub_1").len() == 36
        );
    }
}
