//! Fan-out and delivery: from a new event to one queued delivery per matching active
//! subscription, and from a queued delivery to a signed POST with retries.
//!
//! - [`fan_out`]: an event → its delivery messages;
//! - [`attempt`]: a batch of deliveries → one read, the POSTs, one write, an outcome each;
//! - [`catalog`]: the event types fan-out sees, noted for the account's catalog;
//! - [`cache`]: the subscriptions a warm container read lately, and how stale they may be;
//! - `summary`: the batch's one log line;
//! - [`follow_up`]: what an outcome entails for the subscription (healthy, failing, disabled);
//! - [`replay`]: a replay part → one forced delivery per event;
//! - [`send`]: the signed request;
//! - [`batch`]: an SQS batch → attempts, backoff within SQS's limits, batch item failures.

pub mod attempt;
pub mod batch;
pub mod cache;
pub mod catalog;
pub mod fan_out;
mod follow_up;
mod plan;
pub mod replay;
mod send;
mod summary;

pub use attempt::{deliver, deliver_all};
pub use batch::Pipeline;
pub use cache::SubscriptionCache;
pub use catalog::TypeSightings;
pub use fan_out::{fan_out, messages_for};
pub use plan::{Delivery, DeliverySettings, Disposition, PipelineError};

#[cfg(all(test, feature = "test-util"))]
mod backoff_tests;

#[cfg(all(test, feature = "test-util"))]
mod catalog_tests;

#[cfg(all(test, feature = "test-util"))]
mod message_tests;

#[cfg(all(test, feature = "test-util"))]
mod pipeline_tests;
