//! The one log line of a `deliver` batch at INFO: counts, duration, and the first failures with
//! their reasons (each delivery's own line is at DEBUG). CloudWatch bills every byte, so the line
//! stays short whatever the batch's size.

use super::plan::{Disposition, PipelineError, Planned};
use crate::model::delivery::DeliveryState;
use std::fmt::Write as _;
use std::time::Duration;

/// Failures named in the line at most.
const NAMED_FAILURES: usize = 3;

/// What a batch came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub messages: usize,
    pub deliveries: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Delivered before (a duplicate message): not sent again.
    pub duplicates: usize,
    /// Not settled: the store failed; retried.
    pub errors: usize,
    /// Messages left on the queue.
    pub kept: usize,
    /// `subscription:status code or error` of the first failures.
    pub failures: String,
}

impl Summary {
    /// Counts the planned deliveries of a batch (an error for each that could not be planned).
    pub(super) fn of(planned: &[Result<Planned<'_>, PipelineError>]) -> Self {
        let mut summary = Self {
            deliveries: planned.len(),
            ..Self::default()
        };
        let mut named = 0;
        for plan in planned {
            let Ok(plan) = plan else {
                summary.errors += 1;
                continue;
            };
            let Some(record) = &plan.record else {
                summary.duplicates += 1;
                continue;
            };
            match record.status.status {
                DeliveryState::Delivered => summary.delivered += 1,
                DeliveryState::Retrying => summary.retrying += 1,
                DeliveryState::Failed => summary.failed += 1,
                DeliveryState::Skipped | DeliveryState::Pending => summary.skipped += 1,
            }
            if let Some(attempt) = &record.attempt
                && attempt.outcome != DeliveryState::Delivered
                && named < NAMED_FAILURES
            {
                named += 1;
                let reason = attempt.status_code.map_or_else(
                    || {
                        attempt
                            .error
                            .as_deref()
                            .and_then(|e| e.split(':').next())
                            .unwrap_or("error")
                            .to_owned()
                    },
                    |code| code.to_string(),
                );
                let separator = if summary.failures.is_empty() { "" } else { " " };
                let _ = write!(
                    summary.failures,
                    "{separator}{}:{reason}",
                    attempt.subscription_id
                );
            }
        }
        summary
    }

    /// Counts the outcomes that failed after planning (the batch's write).
    pub(super) fn count_late_errors(&mut self, outcomes: &[Result<Disposition, PipelineError>]) {
        self.errors = outcomes.iter().filter(|o| o.is_err()).count();
    }

    /// Writes the line.
    pub fn log(&self, took: Duration) {
        tracing::info!(
            messages = self.messages,
            deliveries = self.deliveries,
            delivered = self.delivered,
            retrying = self.retrying,
            failed = self.failed,
            skipped = self.skipped,
            duplicates = self.duplicates,
            errors = self.errors,
            kept = self.kept,
            ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
            failures = %self.failures,
            "batch"
        );
    }
}
