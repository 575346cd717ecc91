//! What one scenario did: the fault, and what became of its deliveries.

use serde::Serialize;

/// Events per scenario, each to every receiver.
pub const EVENTS: usize = 100;

/// One fault and what became of the deliveries meanwhile.
#[derive(Debug, Default, Serialize)]
pub struct Scenario {
    pub name: &'static str,
    pub fault: String,
    pub events: usize,
    /// Events × the receivers that should get them.
    pub expected_deliveries: usize,
    /// Distinct deliveries (event, receiver) once the pipeline settled, before any redrive.
    pub delivered_before_redrive: usize,
    /// Messages in the dead-letter queue then.
    pub dead_lettered: u64,
    pub redriven: u64,
    /// Distinct deliveries at the end.
    pub delivered: usize,
    pub lost: usize,
    /// The first events with a delivery missing.
    pub lost_events: Vec<String>,
    /// `fanout` invocations with stream batches it had given up on, fanned out again from its
    /// failure queue.
    pub fanout_batches_redone: usize,
    /// Messages left in the fan-out failure queue at the end.
    pub fanout_failures: u64,
    pub duplicates: usize,
    pub duplicates_with_another_webhook_id: usize,
    /// Publish attempts the API refused (retried with the same `Idempotency-Key`).
    pub publish_failures: usize,
    pub seconds: f64,
    pub passed: bool,
    pub failures: Vec<String>,
    pub notes: Vec<String>,
}

impl Scenario {
    pub(super) fn failed(&mut self, why: String) {
        self.passed = false;
        self.failures.push(why);
    }
}
