//! A batch of queued delivery messages: which attempt each is, the attempts, and what becomes of
//! each message (deleted, hidden for its backoff, continued as a new message, dead-lettered).
//! `functions/deliver` turns the SQS event into [`QueuedMessage`]s and the answer into
//! `batchItemFailures`.

use super::attempt::deliver_summarised;
use super::cache::SubscriptionCache;
use super::plan::Delivery;
use super::plan::{DeliverySettings, Disposition, PipelineError};
use crate::domain::retry;
use crate::model::delivery::{Continuation, DeliveryMessage};
use crate::ports::delivery::{DeliveryQueue, DeliveryStore, QueuedMessage, WebhookSender};
use crate::ports::resolver::Resolver;
use crate::ports::{EventStore, SubscriptionStore};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Everything `deliver` works with.
pub struct Pipeline<S, Q, W, R> {
    pub store: S,
    pub queue: Q,
    pub sender: W,
    pub resolver: R,
    pub settings: DeliverySettings,
    /// The subscriptions this container read lately.
    pub cache: SubscriptionCache,
}

/// A number in [-1, 1] for the retry jitter.
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    crate::domain::secrets::fill_random(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) * 2.0 - 1.0
}

type Outcome = Result<Disposition, PipelineError>;

impl<S, Q, W, R> Pipeline<S, Q, W, R>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    Q: DeliveryQueue,
    W: WebhookSender,
    R: Resolver,
{
    /// Delivers a batch (see [`super::deliver_all`]) of an invocation that started at `invoked_at`.
    /// Messages to retry are hidden for their backoff (or continued as new messages) and stay on
    /// the queue; the rest are done. A continued message that is not due yet is only hidden
    /// until it is. Answers, for each message in order, whether it stays on the queue.
    pub async fn deliver_batch(
        &self,
        messages: &[QueuedMessage],
        invoked_at: SystemTime,
    ) -> Vec<bool> {
        let started = std::time::Instant::now();
        let now = SystemTime::now();
        let received: Vec<Option<Received>> = messages
            .iter()
            .map(|message| Received::of(message, invoked_at, now))
            .collect();
        let deliveries: Vec<Delivery<'_>> = received
            .iter()
            .flatten()
            .filter(|r| r.due_in.is_none())
            .flat_map(|r| {
                r.message.targets.iter().map(|target| Delivery {
                    message: &r.message,
                    target: *target,
                    attempt: r.attempt,
                    jitter: jitter(),
                })
            })
            .collect();
        // Boxed: the future's type is deep enough to overflow the compiler's layout query inside
        // the Lambda runtime's service.
        let (outcomes, mut summary) = Box::pin(deliver_summarised(
            &self.store,
            &self.sender,
            &self.resolver,
            &self.settings,
            &self.cache,
            &deliveries,
        ))
        .await;
        let mut outcomes = outcomes.into_iter();
        let settled: Vec<_> = messages
            .iter()
            .zip(&received)
            .map(|(message, received)| {
                // Only messages that were due were attempted, in order, a delivery per target.
                let taken: Option<Vec<Outcome>> = received
                    .as_ref()
                    .filter(|r| r.due_in.is_none())
                    .map(|r| outcomes.by_ref().take(r.message.targets.len()).collect());
                self.settle(message, received.as_ref(), taken)
            })
            .collect();
        let keep = futures::future::join_all(settled).await;
        summary.messages = messages.len();
        summary.kept = keep.iter().filter(|k| **k).count();
        summary.log(started.elapsed());
        keep
    }

    /// Applies a message's outcomes (none when it was not attempted); whether it stays on the
    /// queue.
    async fn settle(
        &self,
        message: &QueuedMessage,
        received: Option<&Received>,
        outcomes: Option<Vec<Outcome>>,
    ) -> bool {
        let Some(received) = received else {
            return true;
        };
        let parsed = &received.message;
        let mut outcomes = match (outcomes, received.due_in, parsed.continuation) {
            // Not due yet: wait out the rest, carrying the same attempts and due time.
            (None, Some(remaining), Some(continuation)) => {
                let plan = retry::wait_until_due(remaining, received.since_receive);
                return self.wait(message, parsed, plan, continuation).await;
            }
            (Some(outcomes), _, _) => outcomes,
            (None, _, _) => return true,
        };
        if outcomes.len() > 1 {
            return self.split(received, outcomes).await;
        }
        let Some(outcome) = outcomes.pop() else {
            return false;
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
                        tracing::error!(%error, event_id = %parsed.event_id, "could not dead-letter the delivery; it stays on the queue");
                        self.hide(message, Duration::ZERO).await;
                        true
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, event_id = %parsed.event_id, "delivery failed; retried after the visibility timeout");
                true
            }
        }
    }

    /// A message with several deliveries: each one to retry goes on as a message of its own
    /// (carrying its attempts and due time), each one out of attempts to the dead-letter queue;
    /// then this message is done. When any could not be settled so (a store or queue failure),
    /// the whole message stays and is received again after the visibility timeout (what was
    /// delivered meanwhile is not sent twice: its record says so).
    async fn split(&self, received: &Received, outcomes: Vec<Outcome>) -> bool {
        let parsed = &received.message;
        if let Some(Err(error)) = outcomes.iter().find(|o| o.is_err()) {
            tracing::error!(%error, event_id = %parsed.event_id, "delivery failed; the message is retried after the visibility timeout");
            return true;
        }
        let sends = parsed
            .targets
            .iter()
            .zip(outcomes)
            .filter_map(|(target, outcome)| match outcome {
                Ok(Disposition::RetryAfter(wait)) => {
                    let continuation = Continuation {
                        attempts: received.attempt,
                        due_at_ms: unix_ms(SystemTime::now() + wait),
                    };
                    let delay = match retry::backoff(wait, received.since_receive, true) {
                        retry::Backoff::Continue { delay } | retry::Backoff::Hide(delay) => delay,
                    };
                    Some((parsed.continued(*target, Some(continuation)), Some(delay)))
                }
                Ok(Disposition::DeadLetter) => Some((parsed.continued(*target, None), None)),
                _ => None,
            })
            .map(|(next, delay)| async move {
                match delay {
                    Some(delay) => self.queue.send_later(&next, delay).await,
                    None => self.queue.dead_letter(&next).await,
                }
            });
        let sent = futures::future::join_all(sends).await;
        if let Some(Err(error)) = sent.into_iter().find(Result::is_err) {
            tracing::warn!(%error, event_id = %parsed.event_id, "could not split the message; it is retried after the visibility timeout");
            return true;
        }
        false
    }

    /// Keeps a delivery waiting as `plan` says; whether the received message stays on the queue.
    async fn wait(
        &self,
        message: &QueuedMessage,
        parsed: &DeliveryMessage,
        plan: retry::Backoff,
        continuation: Continuation,
    ) -> bool {
        match plan {
            retry::Backoff::Hide(wait) => {
                self.hide(message, wait).await;
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
                        tracing::warn!(%error, event_id = %parsed.event_id, "could not continue the delivery on a new message; the queue's visibility timeout applies");
                        true
                    }
                }
            }
        }
    }

    async fn hide(&self, message: &QueuedMessage, wait: Duration) {
        if let Some(handle) = &message.receipt_handle
            && let Err(error) = self.queue.delay(handle, wait).await
        {
            tracing::warn!(%error, message_id = ?message.id, "could not set the backoff; the queue's visibility timeout applies");
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
    fn of(message: &QueuedMessage, invoked_at: SystemTime, now: SystemTime) -> Option<Self> {
        let Some(parsed) = message
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<DeliveryMessage>(b).ok())
        else {
            // Unreadable: keep it, so it ends in the dead-letter queue for a person to look at.
            tracing::error!(message_id = ?message.id, "delivery message is not a DeliveryMessage");
            return None;
        };
        if parsed.targets.is_empty() {
            tracing::error!(message_id = ?message.id, "delivery message names no subscription");
            return None;
        }
        let receives = message.receive_count.max(1);
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
            since_receive: retry::since_receive(now, invoked_at, message.first_receive),
            message: parsed,
            attempt,
            due_in,
        })
    }
}

/// A continued message received this close to its due time is attempted.
const DUE_TOLERANCE: Duration = Duration::from_secs(1);

pub(super) fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
