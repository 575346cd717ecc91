//! Lambda's event source mappings, locally: the DynamoDB stream → `fanout` and SQS → `deliver`
//! triggers that AWS runs and neither emulator does.
//!
//! Behaviour follows Lambda's documentation for the settings `template.yaml` uses:
//! - Streams: each shard read in order from `LATEST` at start (shards that appear later from
//!   `TRIM_HORIZON`), 4 times a second (Lambda's base rate), records outside `FilterCriteria`
//!   dropped, batches of `BatchSize`. A
//!   `batchItemFailures` response checkpoints before the lowest failed sequence number and
//!   retries from there; a failed invocation is retried, bisected when
//!   `BisectBatchOnFunctionError` is on. After `MaximumRetryAttempts` (or past
//!   `MaximumRecordAgeInSeconds`) the batch is described to the on-failure queue and skipped.
//! - SQS: long-polling pollers receive up to `BatchSize` (≤ 10) messages, gathering more for up
//!   to `MaximumBatchingWindowInSeconds` while the batch is not full; only the messages not
//!   listed in `batchItemFailures` are deleted; the rest reappear after their visibility
//!   timeout. A failed invocation, or a response naming an unknown id, deletes nothing.

mod error;
mod queue;
mod records;
mod settings;
mod stream;
#[cfg(test)]
mod tests;

pub use error::BridgeError;
pub use records::filter_matches;
pub use settings::{LocalSettings, Mappings, QueueMapping, StreamMapping};

use crate::invoke::Invoker;
use crate::provision::Clients;
use queue::QueuePoller;
use std::sync::Arc;
use stream::StreamPoller;
use tokio::task::JoinHandle;

/// The running pollers; dropping it stops them.
pub struct Bridge {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Bridge {
    /// Starts every mapping. Returns once each stream mapping holds its shard iterators, so a
    /// write made after this returns is seen (streams start at `LATEST`).
    ///
    /// # Errors
    /// A stream cannot be described.
    pub async fn start<I: Invoker>(
        clients: &Clients,
        mappings: Mappings,
        invoker: Arc<I>,
    ) -> Result<Self, BridgeError> {
        let mut tasks = Vec::new();
        for mapping in mappings.streams {
            let mut poller = StreamPoller::new(clients.clone(), mapping, Arc::clone(&invoker));
            poller.discover(true).await?;
            tasks.push(tokio::spawn(async move { poller.run().await }));
        }
        for mapping in mappings.queues {
            let mapping = Arc::new(mapping);
            for _ in 0..mapping.pollers {
                let poller = QueuePoller {
                    clients: clients.clone(),
                    mapping: Arc::clone(&mapping),
                    invoker: Arc::clone(&invoker),
                };
                tasks.push(tokio::spawn(async move { poller.run().await }));
            }
        }
        Ok(Self { tasks })
    }
}
