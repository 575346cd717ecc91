//! Phase 3, end to end on the local stack: events written to DynamoDB Local as the API writes them,
//! the stream → `fanout` → SQS emulator → `deliver` → receivers, with the local event source
//! mappings (devstack's bridge) and both handlers in this process.

use crate::measure::{CpuShare, Percentiles, round};
use crate::meter::Meter;
use crate::publisher::Publisher;
use crate::receiver::ReceiverProcess;
use crate::rig::{ACCOUNT, Rig, SQS_POLLERS, SQS_WAIT_SECONDS};
use futures::StreamExt as _;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

pub const EVENTS: usize = 1000;
pub const SUBSCRIPTIONS: usize = 10;
/// Events written at once, as concurrent API requests would.
pub(crate) const PUBLISHERS: usize = 4;
/// The paced run: this many events, one every `PACE`, a rate the stack keeps up with, so its
/// latency is the pipeline's and not a backlog's.
pub const PACED_EVENTS: usize = 200;
const PACE: Duration = Duration::from_millis(100);
/// Give up waiting when nothing new arrived for this long.
pub(crate) const STALL: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Serialize)]
pub struct E2eResult {
    pub events: usize,
    pub subscriptions: usize,
    pub expected_deliveries: usize,
    pub delivered: usize,
    pub lost: usize,
    pub duplicates: usize,
    pub publishers: usize,
    pub sqs_pollers: usize,
    pub publish_seconds: f64,
    /// From the first event written until the last delivery verified.
    pub seconds: f64,
    pub deliveries_per_second: f64,
    /// Event `created_at` → the receiver has verified the signature (first arrival of each pair),
    /// in the burst: mostly time spent waiting in the backlog.
    pub latency: Percentiles,
    pub paced_events: usize,
    pub paced_events_per_second: f64,
    pub paced_lost: usize,
    /// The same, with events written at `paced_events_per_second`.
    pub paced_latency: Percentiles,
    pub cpu: Vec<CpuShare>,
    pub bound_by: String,
    /// What the burst used.
    pub burst_meter: Meter,
    /// What the paced run used: the steady state the cost is priced at.
    pub paced_meter: Meter,
    /// Write units of the requests that emit resource events, by event type (a custom event's
    /// is in the meters: `api_units_per_event`).
    pub resource_event_write_units: BTreeMap<String, f64>,
}

/// Runs the phase.
///
/// # Errors
/// The stack or the receiver failed.
#[allow(clippy::too_many_lines)]
pub async fn run(stack_state: &Path) -> Result<E2eResult, String> {
    let rig = Rig::start("e2e", SUBSCRIPTIONS).await?;
    let (receiver, publisher, counters) = (&rig.receiver, &rig.publisher, &rig.counters);
    let cpu = rig.cpu(stack_state);
    let started = Instant::now();
    write_events(publisher, EVENTS, None).await?;
    let publish_seconds = started.elapsed().as_secs_f64();
    let expected = EVENTS * SUBSCRIPTIONS;
    let arrivals = await_deliveries(receiver, expected).await?;
    let cpu = cpu.finish();
    let first = distinct_pairs(&arrivals);
    let delivered = first.len();
    let last_verified = first.values().map(|a| a.verified_at_ms).max().unwrap_or(0);
    let first_created = first
        .values()
        .filter_map(|a| a.created_at_ms)
        .min()
        .unwrap_or(last_verified);
    #[allow(clippy::cast_precision_loss)]
    let seconds = (last_verified - first_created) as f64 / 1e3;
    #[allow(clippy::cast_precision_loss)]
    let mut latencies: Vec<f64> = first
        .values()
        .filter_map(|a| a.created_at_ms.map(|c| (a.verified_at_ms - c) as f64))
        .collect();
    let burst_meter = counters.meter(delivered, EVENTS);

    receiver.reset().await?;
    // Long polls still waiting from the burst would otherwise count towards the paced run.
    tokio::time::sleep(Duration::from_secs(
        u64::try_from(SQS_WAIT_SECONDS).unwrap_or(20) + 1,
    ))
    .await;
    counters.reset();
    write_events(publisher, PACED_EVENTS, Some(PACE)).await?;
    let paced = distinct_pairs(&await_deliveries(receiver, PACED_EVENTS * SUBSCRIPTIONS).await?);
    let paced_meter = counters.meter(paced.len(), PACED_EVENTS);
    let resource_event_write_units =
        crate::publisher::resource_event_units(&rig.clients, &rig.stack, ACCOUNT, &rig.key).await?;
    #[allow(clippy::cast_precision_loss)]
    let mut paced_latencies: Vec<f64> = paced
        .values()
        .filter_map(|a| a.created_at_ms.map(|c| (a.verified_at_ms - c) as f64))
        .collect();
    #[allow(clippy::cast_precision_loss)]
    Ok(E2eResult {
        events: EVENTS,
        subscriptions: SUBSCRIPTIONS,
        expected_deliveries: expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        duplicates: arrivals.iter().filter(|a| a.verified).count() - delivered,
        publishers: PUBLISHERS,
        sqs_pollers: SQS_POLLERS,
        publish_seconds: round(publish_seconds, 2),
        seconds: round(seconds, 2),
        deliveries_per_second: round(delivered as f64 / seconds.max(0.001), 0),
        latency: Percentiles::of(&mut latencies),
        bound_by: bound_by(&cpu, delivered, delivered as f64 / seconds.max(0.001)),
        cpu,
        paced_events: PACED_EVENTS,
        paced_events_per_second: round(1.0 / PACE.as_secs_f64(), 1),
        paced_lost: (PACED_EVENTS * SUBSCRIPTIONS).saturating_sub(paced.len()),
        paced_latency: Percentiles::of(&mut paced_latencies),
        burst_meter,
        paced_meter,
        resource_event_write_units,
    })
}

/// Writes `count` events through the API, `PUBLISHERS` at a time, or one every `pace`.
pub(crate) async fn write_events(
    publisher: &Publisher,
    count: usize,
    pace: Option<Duration>,
) -> Result<(), String> {
    let write = |n: usize| publisher.publish(n);
    let results: Vec<_> = match pace {
        None => {
            futures::stream::iter(0..count)
                .map(write)
                .buffer_unordered(PUBLISHERS)
                .collect()
                .await
        }
        Some(pace) => {
            let started = tokio::time::Instant::now();
            futures::future::join_all((0..count).map(|n| async move {
                let at = pace.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
                tokio::time::sleep_until(started + at).await;
                publisher.publish(n).await
            }))
            .await
        }
    };
    for result in results {
        result.map_err(|e| format!("writing an event: {e}"))?;
    }
    Ok(())
}

/// Waits until `expected` distinct pairs arrived verified, or nothing new arrived for `STALL`.
async fn await_deliveries(
    receiver: &ReceiverProcess,
    expected: usize,
) -> Result<Vec<crate::receiver::Arrival>, String> {
    let (mut seen, mut last_progress) = (0, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let arrivals = receiver.arrivals().await?;
        let distinct = distinct_pairs(&arrivals).len();
        if distinct >= expected {
            // A little longer, so duplicates still in flight are counted.
            tokio::time::sleep(Duration::from_secs(2)).await;
            return receiver.arrivals().await;
        }
        if distinct > seen {
            (seen, last_progress) = (distinct, Instant::now());
        } else if last_progress.elapsed() > STALL {
            return Ok(arrivals);
        }
    }
}

/// The first verified arrival of each (event, receiver URL) pair.
fn distinct_pairs(
    arrivals: &[crate::receiver::Arrival],
) -> HashMap<(String, u16), crate::receiver::Arrival> {
    let mut first = HashMap::new();
    for arrival in arrivals.iter().filter(|a| a.verified) {
        first
            .entry((arrival.id.clone(), arrival.port))
            .or_insert_with(|| arrival.clone());
    }
    first
}

/// What bounds the burst's throughput, from CPU accounting: each process's CPU per delivery, and
/// the rate the machine's cores could sustain if CPU were all that limited it.
fn bound_by(cpu: &[CpuShare], delivered: usize, deliveries_per_second: f64) -> String {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    #[allow(clippy::cast_precision_loss)]
    let (cores, delivered) = (cores as f64, delivered.max(1) as f64);
    let total: f64 = cpu.iter().map(|c| c.cpu_seconds).sum();
    if total <= 0.0 {
        return "unknown (no CPU figures)".to_owned();
    }
    let busy: f64 = cpu.iter().map(|c| c.cores_busy).sum();
    let per = cpu
        .iter()
        .map(|c| {
            format!(
                "{} {:.2} ms ({:.0} %)",
                c.process,
                c.cpu_seconds / delivered * 1e3,
                c.cpu_seconds / total * 100.0
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let ceiling = cores / (total / delivered);
    let emulators: f64 = cpu
        .iter()
        .filter(|c| {
            c.process.starts_with("DynamoDB Local") || c.process.starts_with("SQS emulator")
        })
        .map(|c| c.cpu_seconds)
        .sum();
    format!(
        "CPU: {busy:.2} of {cores:.0} cores busy; CPU per delivery: {per}; all CPU counted, the cores allow at most {ceiling:.0} deliveries/s (measured {deliveries_per_second:.0}, {:.0} % of that), and the two emulators use {:.0} % of the CPU",
        deliveries_per_second / ceiling * 100.0,
        emulators / total * 100.0
    )
}
