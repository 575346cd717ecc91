//! Fan-out and delivery: from a new event to one queued delivery per matching active
//! subscription, and from a queued delivery to a signed POST with retries.

use crate::domain::retry::{self, RetrySchedule};
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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    /// Set on a delivery that goes on as a new message because its wait outgrew what is left of
    /// a message's 12 h of visibility (see [`crate::domain::retry::backoff`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation: Option<Continuation>,
}

impl DeliveryMessage {
    /// The delivery of `event_id` (of `account_id`) to `subscription_id`; `force` for a resend.
    #[must_use]
    pub fn new(account_id: &str, event_id: &str, subscription_id: &str, force: bool) -> Self {
        Self {
            delivery_id: delivery_id(event_id, subscription_id),
            account_id: account_id.to_owned(),
            event_id: event_id.to_owned(),
            subscription_id: subscription_id.to_owned(),
            force,
            continuation: None,
        }
    }
}

/// Where a continued delivery stands: its attempts so far and when the next one is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    /// Attempts made before this message was sent.
    pub attempts: u32,
    /// When the next attempt is due, in Unix milliseconds.
    pub due_at_ms: i64,
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

impl DeliveryState {
    /// The name the API and the logs use.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub account_id: String,
    pub event_id: String,
    pub subscription_id: String,
}

impl DeliveryKey {
    #[must_use]
    pub fn of(message: &DeliveryMessage) -> Self {
        Self {
            account_id: message.account_id.clone(),
            event_id: message.event_id.clone(),
            subscription_id: message.subscription_id.clone(),
        }
    }
}

/// A delivery's new status, with the attempt that led to it (none for a skip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub account_id: String,
    pub attempt: Option<Attempt>,
    pub status: DeliveryStatus,
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
    /// Notes that a delivery to the subscription failed; returns since when its deliveries have
    /// all been failing (this failure's time when it is the first).
    fn mark_failing(
        &self,
        account: &str,
        subscription_id: &str,
        at: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// Notes that a delivery to the subscription succeeded.
    fn mark_healthy(
        &self,
        account: &str,
        subscription_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every active-or-not subscription of an account whose filters match `event_type`, in as
    /// few reads as the store allows (DynamoDB: one Query page per MB).
    fn matching_subscriptions(
        &self,
        account: &str,
        event_type: &str,
    ) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;
    /// Everything the deliveries of one batch read, together and as cheaply as the store allows
    /// (DynamoDB: one eventually consistent `BatchGetItem`, each item asked once), in the order
    /// of `keys`. A subscription or event reported missing or inactive here may only not have
    /// been replicated yet: `deliver` confirms with strong reads before skipping.
    fn delivery_contexts(
        &self,
        keys: &[DeliveryKey],
    ) -> impl Future<Output = Result<Vec<DeliveryContext>, StoreError>> + Send;
    /// Writes the statuses and attempts of a batch of deliveries (DynamoDB: `BatchWriteItem`s of
    /// plain puts, 1 write unit per item up to 1 KB).
    fn record_deliveries(
        &self,
        records: &[Recorded],
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
        .map(|s| DeliveryMessage::new(&event.account_id, &event.id, &s.id, false))
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
    /// Try again after this long (see [`crate::domain::retry::backoff`] for how the wait is kept).
    RetryAfter(Duration),
    /// The last attempt failed: onto the dead-letter queue.
    DeadLetter,
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
    let mut outcomes = deliver_all(
        store,
        sender,
        resolver,
        settings,
        &[Delivery {
            message,
            attempt,
            jitter,
        }],
    )
    .await;
    outcomes.pop().unwrap_or(Ok(Disposition::Done))
}

/// One message to deliver: on its `attempt` (SQS's receive count), with a jitter in [-1, 1].
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub message: &'a DeliveryMessage,
    pub attempt: u32,
    pub jitter: f64,
}

/// Delivers a batch: one read of everything the batch needs, the POSTs concurrently, one write
/// of every status and attempt, then what each outcome entails (the failing mark, deactivation).
/// An outcome per delivery, in order.
///
/// # Errors
/// Per delivery: the store failed (that delivery stays on the queue and is retried; when the
/// batch's write fails, every delivery that was to be recorded is retried).
pub async fn deliver_all<S, W, R>(
    store: &S,
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    deliveries: &[Delivery<'_>],
) -> Vec<Result<Disposition, PipelineError>>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    let keys: Vec<DeliveryKey> = deliveries
        .iter()
        .map(|d| DeliveryKey::of(d.message))
        .collect();
    let contexts = match store.delivery_contexts(&keys).await {
        Ok(contexts) if contexts.len() == deliveries.len() => contexts,
        Ok(_) => {
            return failed_all(
                deliveries.len(),
                &StoreError::Unavailable("context count".into()),
            );
        }
        Err(error) => return failed_all(deliveries.len(), &error),
    };
    let planned =
        futures::future::join_all(deliveries.iter().zip(contexts).map(|(delivery, context)| {
            attempt_one(store, sender, resolver, settings, *delivery, context)
        }))
        .await;
    let records: Vec<Recorded> = planned
        .iter()
        .filter_map(|p| p.as_ref().ok().and_then(|p| p.record.clone()))
        .collect();
    let written = if records.is_empty() {
        Ok(())
    } else {
        store.record_deliveries(&records).await
    };
    futures::future::join_all(planned.into_iter().map(|plan| async {
        let plan = plan?;
        if plan.record.is_some()
            && let Err(error) = &written
        {
            return Err(PipelineError::Store(error.clone()));
        }
        follow_up(store, settings, plan).await
    }))
    .await
}

fn failed_all(count: usize, error: &StoreError) -> Vec<Result<Disposition, PipelineError>> {
    (0..count)
        .map(|_| Err(PipelineError::Store(error.clone())))
        .collect()
}

/// One delivery after its attempt, before its record is written.
struct Planned<'a> {
    delivery: Delivery<'a>,
    /// What to write; none when an earlier attempt already delivered it.
    record: Option<Recorded>,
    sent: Option<SentAttempt>,
    disposition: Disposition,
}

/// What a POST came to.
struct SentAttempt {
    subscription_id: String,
    delivered: bool,
    gone: bool,
    /// Whether the subscription was marked failing when the batch was read.
    was_failing: bool,
}

/// Reads what the context lacks, skips or sends, and works out the record and the disposition.
async fn attempt_one<'a, S, W, R>(
    store: &S,
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    delivery: Delivery<'a>,
    mut context: DeliveryContext,
) -> Result<Planned<'a>, PipelineError>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    let Delivery {
        message,
        attempt,
        jitter,
    } = delivery;
    let account = &message.account_id;
    let recorded = |state: DeliveryState,
                    attempts: u32,
                    next: Option<String>,
                    attempt: Option<Attempt>| Recorded {
        account_id: account.clone(),
        attempt,
        status: DeliveryStatus {
            delivery_id: message.delivery_id.clone(),
            event_id: message.event_id.clone(),
            subscription_id: message.subscription_id.clone(),
            status: state,
            attempts,
            updated_at: now(),
            next_attempt_at: next,
        },
    };
    // The batch's read may lag a recent write: confirm before skipping.
    if !context.subscription.as_ref().is_some_and(|s| s.active) {
        context.subscription = store
            .get_subscription(account, &message.subscription_id)
            .await?;
    }
    if context.event.is_none() {
        context.event = store.get_event(account, &message.event_id).await?;
    }
    let (Some(subscription), Some(event)) =
        (context.subscription.filter(|s| s.active), context.event)
    else {
        return Ok(Planned {
            delivery,
            record: Some(recorded(
                DeliveryState::Skipped,
                attempt.saturating_sub(1),
                None,
                None,
            )),
            sent: None,
            disposition: Disposition::Done,
        });
    };
    if !message.force
        && context
            .status
            .is_some_and(|previous| previous.status == DeliveryState::Delivered)
    {
        return Ok(Planned {
            delivery,
            record: None,
            sent: None,
            disposition: Disposition::Done,
        });
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
        error: response.error,
        duration_ms,
        response_body: response.body,
        outcome,
        next_attempt_at: next_attempt_at.clone(),
    };
    let disposition = match retry {
        Some(delay) => Disposition::RetryAfter(delay),
        None if outcome == DeliveryState::Failed && !gone => Disposition::DeadLetter,
        None => Disposition::Done,
    };
    Ok(Planned {
        delivery,
        record: Some(recorded(outcome, attempt, next_attempt_at, Some(record))),
        sent: Some(SentAttempt {
            subscription_id: subscription.id,
            delivered,
            gone,
            was_failing: context.failing,
        }),
        disposition,
    })
}

/// After the batch's write: the log line, and what the outcome entails for the subscription.
async fn follow_up<S: DeliveryStore>(
    store: &S,
    settings: &DeliverySettings,
    plan: Planned<'_>,
) -> Result<Disposition, PipelineError> {
    let message = plan.delivery.message;
    let account = &message.account_id;
    let Some(record) = &plan.record else {
        return Ok(plan.disposition);
    };
    // One line per delivery, kept short (CloudWatch bills each byte): the delivery id is a hash
    // of the two ids, and the request id comes with the invocation's span.
    let attempt = record.attempt.as_ref();
    tracing::info!(
        event_id = %message.event_id,
        subscription_id = %message.subscription_id,
        attempt = plan.delivery.attempt,
        status = record.status.status.as_str(),
        status_code = attempt.and_then(|a| a.status_code),
        error = attempt.and_then(|a| a.error.as_deref()),
        duration_ms = attempt.map(|a| a.duration_ms),
        "delivery"
    );
    let Some(sent) = plan.sent else {
        return Ok(plan.disposition);
    };
    if sent.delivered {
        if sent.was_failing {
            store.mark_healthy(account, &sent.subscription_id).await?;
        }
    } else if sent.gone {
        store
            .deactivate(
                account,
                &sent.subscription_id,
                "the endpoint answered 410 Gone",
            )
            .await?;
    } else {
        disable_if_failing_too_long(store, settings, account, &sent.subscription_id).await?;
        if record.status.status == DeliveryState::Failed {
            tracing::warn!(delivery_id = %message.delivery_id, attempts = plan.delivery.attempt, "delivery exhausted its attempts; it goes to the dead-letter queue");
        }
    }
    Ok(plan.disposition)
}

/// Deactivates a subscription whose deliveries have all failed for longer than the window.
async fn disable_if_failing_too_long<S: DeliveryStore>(
    store: &S,
    settings: &DeliverySettings,
    account: &str,
    subscription_id: &str,
) -> Result<(), PipelineError> {
    let since = store.mark_failing(account, subscription_id, &now()).await?;
    let failing_for = chrono::DateTime::parse_from_rfc3339(&since)
        .ok()
        .and_then(|since| {
            (chrono::Utc::now() - since.with_timezone(&chrono::Utc))
                .to_std()
                .ok()
        })
        .unwrap_or_default();
    if failing_for > settings.disable_after {
        let reason = format!("every delivery has failed since {since}");
        store.deactivate(account, subscription_id, &reason).await?;
        tracing::warn!(subscription_id, %since, "subscription disabled after failing for too long");
    }
    Ok(())
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
    /// Delivers an SQS batch (see [`deliver_all`]) of an invocation that started at
    /// `invoked_at`. Messages to retry are hidden for their backoff (or continued as new
    /// messages) and reported in `batchItemFailures`; the rest are acknowledged. A continued
    /// message that is not due yet is only hidden until it is.
    pub async fn deliver_batch(
        &self,
        messages: &[SqsMessage],
        invoked_at: SystemTime,
    ) -> SqsBatchResponse {
        let now = SystemTime::now();
        let received: Vec<Option<Received>> = messages
            .iter()
            .map(|message| Received::of(message, invoked_at, now))
            .collect();
        let deliveries: Vec<Delivery<'_>> = received
            .iter()
            .flatten()
            .filter(|r| r.due_in.is_none())
            .map(|r| Delivery {
                message: &r.message,
                attempt: r.attempt,
                jitter: jitter(),
            })
            .collect();
        // Boxed: the future's type is deep enough to overflow the compiler's layout query inside
        // the Lambda runtime's service.
        let mut outcomes = Box::pin(deliver_all(
            &self.store,
            &self.sender,
            &self.resolver,
            &self.settings,
            &deliveries,
        ))
        .await
        .into_iter();
        let settled: Vec<_> = messages
            .iter()
            .zip(&received)
            .map(|(message, received)| {
                // Only messages that were due were attempted, in order.
                let outcome = received
                    .as_ref()
                    .filter(|r| r.due_in.is_none())
                    .and_then(|_| outcomes.next());
                self.settle(message, received.as_ref(), outcome)
            })
            .collect();
        let keep = futures::future::join_all(settled).await;
        let mut response = SqsBatchResponse::default();
        for (message, keep) in messages.iter().zip(keep) {
            if keep && let Some(id) = &message.message_id {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier.clone_from(id);
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// Applies a delivery's outcome (none when it was not attempted) to its message; whether the
    /// message stays on the queue.
    async fn settle(
        &self,
        message: &SqsMessage,
        received: Option<&Received>,
        outcome: Option<Result<Disposition, PipelineError>>,
    ) -> bool {
        let Some(received) = received else {
            return true;
        };
        let parsed = &received.message;
        let outcome = match (outcome, received.due_in, parsed.continuation) {
            // Not due yet: wait out the rest, carrying the same attempts and due time.
            (None, Some(remaining), Some(continuation)) => {
                let plan = retry::wait_until_due(remaining, received.since_receive);
                return self.wait(message, parsed, plan, continuation).await;
            }
            (Some(outcome), _, _) => outcome,
            (None, _, _) => return true,
        };
        match outcome {
            Ok(Disposition::Done) => false,
            Ok(Disposition::RetryAfter(wait)) => {
                let plan =
                    retry::backoff(wait, received.since_receive, parsed.continuation.is_some());
                let continuation = Continuation {
                    attempts: received.attempt,
                    due_at_ms: unix_ms(SystemTime::now() + wait),
                };
                self.wait(message, parsed, plan, continuation).await
            }
            Ok(Disposition::DeadLetter) => {
                let fresh = DeliveryMessage {
                    continuation: None,
                    ..parsed.clone()
                };
                match self.queue.dead_letter(&fresh).await {
                    Ok(()) => false,
                    Err(error) => {
                        // Kept, visible at once: SQS's redrive moves it once its receives run out.
                        tracing::error!(%error, delivery_id = %parsed.delivery_id, "could not dead-letter the delivery; it stays on the queue");
                        self.hide(message, parsed, Duration::ZERO).await;
                        true
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, delivery_id = %parsed.delivery_id, "delivery failed; retried after the visibility timeout");
                true
            }
        }
    }

    /// Keeps a delivery waiting as `plan` says; whether the received message stays on the queue.
    async fn wait(
        &self,
        message: &SqsMessage,
        parsed: &DeliveryMessage,
        plan: retry::Backoff,
        continuation: Continuation,
    ) -> bool {
        match plan {
            retry::Backoff::Hide(wait) => {
                self.hide(message, parsed, wait).await;
                true
            }
            retry::Backoff::Continue { delay } => {
                let next = DeliveryMessage {
                    continuation: Some(continuation),
                    ..parsed.clone()
                };
                match self.queue.send_later(&next, delay).await {
                    Ok(()) => false,
                    Err(error) => {
                        tracing::warn!(%error, delivery_id = %parsed.delivery_id, "could not continue the delivery on a new message; the queue's visibility timeout applies");
                        true
                    }
                }
            }
        }
    }

    async fn hide(&self, message: &SqsMessage, parsed: &DeliveryMessage, wait: Duration) {
        if let Some(handle) = &message.receipt_handle
            && let Err(error) = self.queue.delay(handle, wait).await
        {
            tracing::warn!(%error, delivery_id = %parsed.delivery_id, "could not set the backoff; the queue's visibility timeout applies");
        }
    }
}

/// A received delivery message, read: which attempt it is, how long ago it was received at
/// most, and for a continued message not due yet, how long until it is.
struct Received {
    message: DeliveryMessage,
    attempt: u32,
    since_receive: Duration,
    due_in: Option<Duration>,
}

impl Received {
    fn of(message: &SqsMessage, invoked_at: SystemTime, now: SystemTime) -> Option<Self> {
        let Some(parsed) = message
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<DeliveryMessage>(b).ok())
        else {
            // Unreadable: keep it, so it ends in the dead-letter queue for a person to look at.
            tracing::error!(message_id = ?message.message_id, "delivery message is not a DeliveryMessage");
            return None;
        };
        let attribute = |name: &str| message.attributes.get(name).map(String::as_str);
        let first_receive = attribute("ApproximateFirstReceiveTimestamp")
            .and_then(|ms| ms.parse().ok())
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
        let receives: u32 = attribute("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        // A continued message counts from the attempts it carries: its receives include waits.
        let (attempt, due_in) = match parsed.continuation {
            Some(c) => {
                let due =
                    UNIX_EPOCH + Duration::from_millis(u64::try_from(c.due_at_ms).unwrap_or(0));
                let due_in = due
                    .duration_since(now)
                    .ok()
                    .filter(|left| *left > DUE_TOLERANCE);
                (c.attempts.saturating_add(1), due_in)
            }
            None => (receives, None),
        };
        Some(Self {
            since_receive: retry::since_receive(now, invoked_at, first_receive),
            message: parsed,
            attempt,
            due_in,
        })
    }
}

/// A continued message received this close to its due time is attempted.
const DUE_TOLERANCE: Duration = Duration::from_secs(1);

fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_the_api_names() {
        for state in [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Retrying,
            DeliveryState::Failed,
            DeliveryState::Skipped,
        ] {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(state.as_str())
            );
        }
    }

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

#[cfg(all(test, feature = "test-util"))]
#[path = "delivery_backoff_tests.rs"]
mod backoff_tests;

#[cfg(all(test, feature = "test-util"))]
#[allow(clippy::unwrap_used)]
mod pipeline_tests {
    use super::*;
    use crate::adapters::memory::{MemoryQueue, MemoryStore, RecordingSender};
    use crate::model::SigningSecret;

    pub(super) struct NoDns;
    impl Resolver for NoDns {
        async fn resolve(&self, _host: &str, _port: u16) -> Vec<std::net::IpAddr> {
            vec!["93.184.215.14".parse().unwrap()]
        }
    }

    pub(super) async fn setup(
        status: u16,
        disable_after: Duration,
        active: bool,
    ) -> (
        Pipeline<MemoryStore, MemoryQueue, RecordingSender, NoDns>,
        DeliveryMessage,
    ) {
        let store = MemoryStore::new();
        let subscription = Subscription {
            id: "sub_1".into(),
            account_id: "acc_1".into(),
            url: "https://hooks.example.com/in".into(),
            event_types: vec!["*".into()],
            description: None,
            active,
            secrets: vec![SigningSecret {
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                created_at: now(),
                expires_at: None,
            }],
            disabled_reason: None,
            created_at: now(),
            updated_at: now(),
        };
        store.create_subscription(&subscription).await.unwrap();
        let event = Event {
            id: "evt_1".into(),
            account_id: "acc_1".into(),
            event_type: "order.received".into(),
            created_at: now(),
            data: serde_json::json!({"n": 1}),
            subscription_id: None,
        };
        store.publish(&event, None).await.unwrap();
        let message = DeliveryMessage {
            delivery_id: delivery_id("evt_1", "sub_1"),
            account_id: "acc_1".into(),
            event_id: "evt_1".into(),
            subscription_id: "sub_1".into(),
            force: false,
            continuation: None,
        };
        let pipeline = Pipeline {
            store,
            queue: MemoryQueue::default(),
            sender: RecordingSender::answering(status),
            resolver: NoDns,
            settings: DeliverySettings {
                schedule: RetrySchedule::parse("1s,1s").unwrap(),
                targets: TargetPolicy::default(),
                disable_after,
            },
        };
        (pipeline, message)
    }

    /// The delivery's recorded status, as `deliver` reads it.
    async fn status_of(
        store: &MemoryStore,
        account: &str,
        event: &str,
        subscription: &str,
    ) -> Option<DeliveryStatus> {
        let key = DeliveryKey {
            account_id: account.into(),
            event_id: event.into(),
            subscription_id: subscription.into(),
        };
        store
            .delivery_contexts(&[key])
            .await
            .unwrap()
            .remove(0)
            .status
    }

    async fn run(
        p: &Pipeline<MemoryStore, MemoryQueue, RecordingSender, NoDns>,
        m: &DeliveryMessage,
        attempt: u32,
    ) -> Disposition {
        deliver(
            &p.store,
            &p.sender,
            &p.resolver,
            &p.settings,
            m,
            attempt,
            0.0,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn success_is_done_and_a_duplicate_is_not_sent_again() {
        let (p, m) = setup(204, Duration::from_secs(3600), true).await;
        assert_eq!(run(&p, &m, 1).await, Disposition::Done);
        assert_eq!(run(&p, &m, 1).await, Disposition::Done);
        assert_eq!(
            p.sender.requests.lock().unwrap().len(),
            1,
            "a re-fanned-out delivery is not sent twice"
        );
        let forced = DeliveryMessage {
            force: true,
            continuation: None,
            ..m.clone()
        };
        run(&p, &forced, 1).await;
        assert_eq!(p.sender.requests.lock().unwrap().len(), 2, "a resend is");
    }

    #[tokio::test]
    async fn failures_back_off_then_exhaust() {
        let (p, m) = setup(500, Duration::from_secs(3600), true).await;
        assert_eq!(
            run(&p, &m, 1).await,
            Disposition::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            run(&p, &m, 2).await,
            Disposition::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            run(&p, &m, 3).await,
            Disposition::DeadLetter,
            "exhausted: onto the DLQ"
        );
        let status = status_of(&p.store, "acc_1", "evt_1", "sub_1")
            .await
            .unwrap();
        assert_eq!((status.status, status.attempts), (DeliveryState::Failed, 3));
        let sub = p
            .store
            .get_subscription("acc_1", "sub_1")
            .await
            .unwrap()
            .unwrap();
        assert!(sub.active, "one hour has not passed");
    }

    #[tokio::test]
    async fn failing_longer_than_the_window_disables_the_subscription() {
        let (p, m) = setup(500, Duration::ZERO, true).await;
        run(&p, &m, 1).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        run(&p, &m, 2).await;
        let sub = p
            .store
            .get_subscription("acc_1", "sub_1")
            .await
            .unwrap()
            .unwrap();
        assert!(!sub.active);
        assert!(sub.disabled_reason.unwrap().contains("failed since"));
    }

    #[tokio::test]
    async fn a_success_resets_the_failing_window() {
        let (p, m) = setup(500, Duration::from_secs(3600), true).await;
        run(&p, &m, 1).await;
        let key = DeliveryKey::of(&m);
        let contexts = p.store.delivery_contexts(&[key]).await.unwrap();
        assert!(contexts[0].failing);
        let recovered = RecordingSender::answering(200);
        let outcome = deliver(&p.store, &recovered, &p.resolver, &p.settings, &m, 2, 0.0);
        assert_eq!(outcome.await.unwrap(), Disposition::Done);
        assert_eq!(
            p.store
                .mark_failing("acc_1", "sub_1", "later")
                .await
                .unwrap(),
            "later"
        );
    }

    #[tokio::test]
    async fn inactive_subscriptions_are_skipped_without_a_request() {
        let (p, m) = setup(200, Duration::from_secs(3600), false).await;
        assert_eq!(run(&p, &m, 1).await, Disposition::Done);
        assert!(p.sender.requests.lock().unwrap().is_empty());
        let status = status_of(&p.store, "acc_1", "evt_1", "sub_1")
            .await
            .unwrap();
        assert_eq!(status.status, DeliveryState::Skipped);
    }

    #[tokio::test]
    async fn a_batch_skips_passes_over_and_sends_each_delivery_on_its_own_terms() {
        let (p, m) = setup(200, Duration::from_secs(3600), true).await;
        let mut inactive = p
            .store
            .get_subscription("acc_1", "sub_1")
            .await
            .unwrap()
            .unwrap();
        inactive.id = "sub_2".into();
        inactive.active = false;
        p.store.create_subscription(&inactive).await.unwrap();
        let skipped = DeliveryMessage {
            delivery_id: delivery_id("evt_1", "sub_2"),
            subscription_id: "sub_2".into(),
            ..m.clone()
        };
        let missing_event = DeliveryMessage {
            delivery_id: delivery_id("evt_9", "sub_1"),
            event_id: "evt_9".into(),
            ..m.clone()
        };
        // The first delivery of m succeeds; in the batch, m again is passed over.
        assert_eq!(run(&p, &m, 1).await, Disposition::Done);
        let batch = [&m, &skipped, &missing_event, &m];
        let deliveries: Vec<Delivery<'_>> = batch
            .iter()
            .map(|message| Delivery {
                message,
                attempt: 1,
                jitter: 0.0,
            })
            .collect();
        let outcomes =
            deliver_all(&p.store, &p.sender, &p.resolver, &p.settings, &deliveries).await;
        assert!(outcomes.iter().all(|o| matches!(o, Ok(Disposition::Done))));
        assert_eq!(
            p.sender.requests.lock().unwrap().len(),
            1,
            "only the first run sent"
        );
        for (event, subscription) in [("evt_1", "sub_2"), ("evt_9", "sub_1")] {
            let status = status_of(&p.store, "acc_1", event, subscription)
                .await
                .unwrap();
            assert_eq!(status.status, DeliveryState::Skipped);
        }
    }

    #[tokio::test]
    async fn requests_carry_standard_webhooks_headers() {
        let (p, m) = setup(200, Duration::from_secs(3600), true).await;
        run(&p, &m, 1).await;
        let request = p.sender.requests.lock().unwrap()[0].clone();
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("webhook-id"), Some("evt_1"));
        assert_eq!(header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["type"], "order.received");
        assert_eq!(body["data"], serde_json::json!({"n": 1}));
        let ts: i64 = header("webhook-timestamp").unwrap().parse().unwrap();
        signature::verify(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            header,
            &request.body,
            ts,
        )
        .unwrap();
    }
}
