//! What the end-to-end phase counts over one run: the calls and DynamoDB units of the functions,
//! of the local event source mappings and of the API, and the invocations with what each was
//! handed; as figures per delivery or per event.

use crate::measure::round;
use crate::stack::CallCounter;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Calls, units and invocations counted over one run, per delivery or per event.
#[derive(Debug, Clone, Serialize)]
pub struct Meter {
    pub deliveries: usize,
    pub events: usize,
    /// Calls `fanout` and `deliver` made, per delivery.
    pub function_calls_per_delivery: BTreeMap<String, f64>,
    /// Calls the local event source mappings made (devstack's bridge, standing in for Lambda's
    /// pollers), per delivery.
    pub mapping_calls_per_delivery: BTreeMap<String, f64>,
    /// DynamoDB capacity units `fanout` and `deliver` consumed, per delivery, by operation, as
    /// DynamoDB Local reported them, indexes included (a `BatchGetItem` counted at least 0.5 per
    /// key asked, as AWS bills).
    pub function_units_per_delivery: BTreeMap<String, f64>,
    /// Calls the API made writing the events (`POST /api/v1/events`), per event.
    pub api_calls_per_event: BTreeMap<String, f64>,
    /// Units the API consumed writing the events, per event.
    pub api_units_per_event: BTreeMap<String, f64>,
    pub fanout_invocations: usize,
    pub deliver_invocations: usize,
    /// Messages handed to `deliver` per invocation (mean).
    pub messages_per_deliver_invocation: f64,
    /// Deliveries per `deliver` invocation (mean).
    pub deliveries_per_deliver_invocation: f64,
    /// Stream records handed to `fanout` per invocation (mean).
    pub records_per_fanout_invocation: f64,
}

/// Counts invocations and what they were handed.
#[derive(Debug, Default)]
pub struct Invocations {
    pub fanout: AtomicUsize,
    pub fanout_records: AtomicUsize,
    pub deliver: AtomicUsize,
    pub deliver_messages: AtomicUsize,
    pub deliver_deliveries: AtomicUsize,
}

impl Invocations {
    pub fn reset(&self) {
        for counter in [
            &self.fanout,
            &self.fanout_records,
            &self.deliver,
            &self.deliver_messages,
            &self.deliver_deliveries,
        ] {
            counter.store(0, Ordering::SeqCst);
        }
    }
}

/// The counters of one run.
pub struct Counters {
    pub functions: CallCounter,
    pub mappings: CallCounter,
    pub api: CallCounter,
    pub invocations: Arc<Invocations>,
}

impl Counters {
    pub fn reset(&self) {
        self.functions.reset();
        self.mappings.reset();
        self.api.reset();
        self.invocations.reset();
    }

    #[allow(clippy::cast_precision_loss)]
    pub fn meter(&self, deliveries: usize, events: usize) -> Meter {
        let per_event = |counts: BTreeMap<String, f64>| {
            counts
                .into_iter()
                .map(|(k, v)| (k, round(v / events.max(1) as f64, 3)))
                .collect()
        };
        let i = &self.invocations;
        let (fanout, deliver) = (
            i.fanout.load(Ordering::SeqCst),
            i.deliver.load(Ordering::SeqCst),
        );
        let mean = |n: &AtomicUsize, of: usize| {
            round(n.load(Ordering::SeqCst) as f64 / of.max(1) as f64, 2)
        };
        Meter {
            deliveries,
            events,
            function_calls_per_delivery: per_delivery(
                as_f64(self.functions.snapshot()),
                deliveries,
            ),
            mapping_calls_per_delivery: per_delivery(as_f64(self.mappings.snapshot()), deliveries),
            function_units_per_delivery: per_delivery(self.functions.capacity(), deliveries),
            api_calls_per_event: per_event(as_f64(self.api.snapshot())),
            api_units_per_event: per_event(self.api.capacity()),
            fanout_invocations: fanout,
            deliver_invocations: deliver,
            messages_per_deliver_invocation: mean(&i.deliver_messages, deliver),
            deliveries_per_deliver_invocation: mean(&i.deliver_deliveries, deliver),
            records_per_fanout_invocation: mean(&i.fanout_records, fanout),
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn per_delivery(counts: BTreeMap<String, f64>, delivered: usize) -> BTreeMap<String, f64> {
    counts
        .into_iter()
        .map(|(k, v)| (k, round(v / delivered.max(1) as f64, 3)))
        .collect()
}

#[allow(clippy::cast_precision_loss)]
fn as_f64(counts: BTreeMap<String, u64>) -> BTreeMap<String, f64> {
    counts.into_iter().map(|(k, v)| (k, v as f64)).collect()
}
