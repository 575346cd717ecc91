//! A batch of queued delivery messages: which attempt each is, the attempts, and what becomes of
//! each message (deleted, hidden for its backoff, continued as a new message, dead-lettered).
//! `functions/deliver` turns the SQS event into [`QueuedMessage`]s and the answer into
//! `batchItemFailures`.

use super::attempt::deliver_all;
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
    /// Delivers a batch (see [`deliver_all`]) of an invocation that started at `invoked_at`.
    /// Messages to retry are hidden for their backoff (or continued as new messages) and stay on
    /// the queue; the rest are done. A continued message that is not due yet is only hidden
    /// until it is. Answers, for each message in order, whether it stays on the queue.
    pub async fn deliver_batch(
        &self,
        messages: &[QueuedMessage],
        invoked_at: SystemTime,
    ) -> Vec<bool> {
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
        futures::future::join_all(settled).await
    }

    /// Applies a delivery's outcome (none when it was not attempted) to its message; whether the
    /// message stays on the queue.
    async fn settle(
        &self,
        message: &QueuedMessage,
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
        message: &QueuedMessage,
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

    async fn hide(&self, message: &QueuedMessage, parsed: &DeliveryMessage, wait: Duration) {
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
