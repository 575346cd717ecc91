//! What the delivery use-cases work with and come to: the settings, one delivery to attempt,
//! its plan after the attempt, and what becomes of its queue message.

use crate::domain::retry::RetrySchedule;
use crate::domain::target::TargetPolicy;
use crate::model::SubscriptionId;
use crate::model::delivery::{DeliveryMessage, Target};
use crate::ports::StoreError;
use crate::ports::delivery::QueueError;
use crate::ports::delivery::{DeliveryKey, Recorded};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

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

/// One delivery to attempt: a message's event to one of its targets, on its `attempt` (SQS's
/// receive count, or what a continued message carries), with a jitter in [-1, 1].
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub message: &'a DeliveryMessage,
    pub target: Target,
    pub attempt: u32,
    pub jitter: f64,
}

impl Delivery<'_> {
    /// Which delivery this is.
    #[must_use]
    pub const fn key(&self) -> DeliveryKey {
        DeliveryKey::of(self.message, self.target.subscription_id)
    }
}

/// One delivery after its attempt, before its record is written.
pub(super) struct Planned<'a> {
    pub(super) delivery: Delivery<'a>,
    /// What to write; none when an earlier attempt already delivered it.
    pub(super) record: Option<Recorded>,
    pub(super) sent: Option<SentAttempt>,
    pub(super) disposition: Disposition,
}

/// What a POST came to.
pub(super) struct SentAttempt {
    pub(super) subscription_id: SubscriptionId,
    /// Where it was sent (what a `subscription.disabled` event names).
    pub(super) url: String,
    /// The challenge, when this was the subscription's intent verification.
    pub(super) challenge: Option<String>,
    pub(super) delivered: bool,
    pub(super) gone: bool,
    /// Whether the subscription was marked failing when the batch was read.
    pub(super) was_failing: bool,
}
