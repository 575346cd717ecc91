//! Fan-out and delivery: from a new event to one queued delivery per matching active
//! subscription, and from a queued delivery to a signed POST with retries.
//!
//! - [`fan_out`]: an event → its delivery messages;
//! - [`attempt`]: a batch of deliveries → one read, the POSTs, one write, an outcome each;
//! - [`follow_up`]: what an outcome entails for the subscription (healthy, failing, disabled);
//! - [`send`]: the signed request;
//! - [`batch`]: an SQS batch → attempts, backoff within SQS's limits, batch item failures.

pub mod attempt;
pub mod batch;
pub mod fan_out;
mod follow_up;
mod send;

pub use attempt::{Delivery, deliver, deliver_all};
pub use batch::Pipeline;
pub use fan_out::fan_out;

use crate::domain::retry::RetrySchedule;
use crate::domain::target::TargetPolicy;
use crate::ports::StoreError;
use crate::ports::delivery::QueueError;
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

#[cfg(all(test, feature = "test-util"))]
mod backoff_tests;

#[cfg(all(test, feature = "test-util"))]
mod pipeline_tests;
