//! `make soak`: 10,000 events × 10 subscriptions = 100,000 deliveries through the local stack
//! (DynamoDB Local, the SQS emulator, devstack's event source mappings, `fanout` and `deliver`,
//! receivers that verify every signature), written through the API by 4 writers held back to
//! keep at most [`MAX_BACKLOG_EVENTS`] undelivered. Progress every 10 s; `bench/results/soak.json`
//! at the end. Fails when a delivery is lost, or a duplicate carries another `webhook-id` than
//! its event (a receiver could not drop it).

use crate::e2e::{PUBLISHERS, STALL};
use crate::measure::{CpuShare, peak_rss_kib, round};
use crate::receiver::Summary;
use crate::report::{Machine, git_commit, git_dirty, machine};
use crate::rig::{Rig, SQS_POLLERS};
use futures::StreamExt as _;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const EVENTS: usize = 10_000;
pub const SUBSCRIPTIONS: usize = 10;
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// Events written but not yet delivered, at most: the soak is a sustained load, not a burst.
/// The SQS emulator (moto) scans its whole queue on every receive and delete, so a backlog of
/// thousands of messages would measure moto, not the pipeline (a 10,000-message backlog fell to
/// about 30 deliveries/s); `make bench`'s burst phase covers backlogs.
pub const MAX_BACKLOG_EVENTS: usize = 200;
const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Serialize)]
pub struct SoakResult {
    pub generated_at: String,
    pub command: &'static str,
    pub git_commit: String,
    pub git_dirty: bool,
    pub machine: Machine,
    pub events: usize,
    pub subscriptions: usize,
    pub expected_deliveries: usize,
    /// Distinct (event, receiver URL) pairs that arrived with a valid signature.
    pub deliveries: usize,
    pub lost: usize,
    /// Verified arrivals of a pair already delivered (at-least-once allows them).
    pub duplicates: usize,
    /// Duplicates a receiver could not recognise: another `webhook-id` than their event's.
    pub duplicates_with_another_webhook_id: usize,
    /// Arrivals whose signature did not verify.
    pub unverified: usize,
    pub publishers: usize,
    /// Events written ahead of their deliveries, at most.
    pub max_backlog_events: usize,
    pub sqs_pollers: usize,
    pub publish_seconds: f64,
    /// From the first event's `created_at` to the last verified delivery.
    pub seconds: f64,
    pub deliveries_per_second: f64,
    /// All CPU of the processes below, per delivery.
    pub cpu_ms_per_delivery: f64,
    pub cpu: Vec<CpuShare>,
    /// Peak resident set (`VmHWM`) of each process, MiB.
    pub peak_rss_mib: BTreeMap<String, f64>,
}

/// Runs the soak with `events` events and writes `out`.
///
/// # Errors
/// The stack failed, or the soak lost deliveries.
pub async fn run(stack_state: &Path, out: &Path, events: usize) -> Result<SoakResult, String> {
    let expected = events * SUBSCRIPTIONS;
    eprintln!("soak: {events} events × {SUBSCRIPTIONS} subscriptions = {expected} deliveries");
    let rig = Rig::start("soak", SUBSCRIPTIONS).await?;
    let cpu = rig.cpu(stack_state);
    let started = Instant::now();
    let (published, delivered) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let publish = async {
        let mut writes = futures::stream::iter(0..events)
            .map(|n| {
                let (rig, delivered) = (&rig, &delivered);
                async move {
                    while n.saturating_sub(delivered.load(Ordering::Relaxed) / SUBSCRIPTIONS)
                        > MAX_BACKLOG_EVENTS
                    {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    rig.publisher.publish(n).await
                }
            })
            .buffer_unordered(PUBLISHERS);
        while let Some(result) = writes.next().await {
            result.map_err(|e| format!("writing an event: {e}"))?;
            published.fetch_add(1, Ordering::Relaxed);
        }
        Ok::<f64, String>(started.elapsed().as_secs_f64())
    };
    let watch = async {
        let (mut best, mut last_progress, mut last_shown) = (0, Instant::now(), Instant::now());
        loop {
            tokio::time::sleep(TICK).await;
            let summary = rig.receiver.summary().await?;
            delivered.store(summary.delivered, Ordering::Relaxed);
            if last_shown.elapsed() < PROGRESS_EVERY && summary.delivered < expected {
                continue;
            }
            last_shown = Instant::now();
            #[allow(clippy::cast_precision_loss)]
            let rate = summary.delivered as f64 / started.elapsed().as_secs_f64();
            eprintln!(
                "soak: {:>4.0} s  events written {:>6}/{events}  delivered {:>7}/{expected}  \
                 duplicates {}  {rate:.0} deliveries/s",
                started.elapsed().as_secs_f64(),
                published.load(Ordering::Relaxed),
                summary.delivered,
                summary.duplicates,
            );
            if summary.delivered >= expected {
                // A little longer, so duplicates still in flight are counted.
                tokio::time::sleep(Duration::from_secs(5)).await;
                return rig.receiver.summary().await;
            }
            if summary.delivered > best {
                (best, last_progress) = (summary.delivered, Instant::now());
            } else if last_progress.elapsed() > STALL {
                eprintln!("soak: nothing new for {} s; stopping", STALL.as_secs());
                return Ok(summary);
            }
        }
    };
    let (publish_seconds, summary) = tokio::try_join!(publish, watch)?;
    let cpu = cpu.finish();
    let result = result(&rig, stack_state, events, publish_seconds, &summary, cpu);
    let json = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
    std::fs::write(out, format!("{json}\n")).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "soak: {} of {expected} delivered, {} lost, {} duplicates ({} with another webhook-id), \
         {:.0} deliveries/s, {:.2} ms CPU per delivery; written to {}",
        result.deliveries,
        result.lost,
        result.duplicates,
        result.duplicates_with_another_webhook_id,
        result.deliveries_per_second,
        result.cpu_ms_per_delivery,
        out.display()
    );
    if result.lost > 0 || result.duplicates_with_another_webhook_id > 0 || result.unverified > 0 {
        return Err(format!(
            "the soak lost {} deliveries, {} duplicates had another webhook-id, {} arrivals did \
             not verify",
            result.lost, result.duplicates_with_another_webhook_id, result.unverified
        ));
    }
    Ok(result)
}

#[allow(clippy::cast_precision_loss)]
fn result(
    rig: &Rig,
    stack_state: &Path,
    events: usize,
    publish_seconds: f64,
    summary: &Summary,
    cpu: Vec<CpuShare>,
) -> SoakResult {
    let expected = events * SUBSCRIPTIONS;
    let seconds = match (summary.first_created_ms, summary.last_verified_ms) {
        (Some(first), Some(last)) => (last - first) as f64 / 1e3,
        _ => 0.0,
    };
    let cpu_seconds: f64 = cpu.iter().map(|c| c.cpu_seconds).sum();
    let peak_rss_mib = rig
        .processes(stack_state)
        .into_iter()
        .filter_map(|(name, pid)| {
            let kib = peak_rss_kib(pid?)?;
            Some((name.to_owned(), round(kib as f64 / 1024.0, 1)))
        })
        .collect();
    SoakResult {
        generated_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        command: "make soak",
        git_commit: git_commit(),
        git_dirty: git_dirty(),
        machine: machine(),
        events,
        subscriptions: SUBSCRIPTIONS,
        expected_deliveries: expected,
        deliveries: summary.delivered,
        lost: expected.saturating_sub(summary.delivered),
        duplicates: summary.duplicates,
        duplicates_with_another_webhook_id: summary.webhook_id_mismatches,
        unverified: summary.arrivals - summary.verified,
        publishers: PUBLISHERS,
        max_backlog_events: MAX_BACKLOG_EVENTS,
        sqs_pollers: SQS_POLLERS,
        publish_seconds: round(publish_seconds, 1),
        seconds: round(seconds, 1),
        deliveries_per_second: round(summary.delivered as f64 / seconds.max(0.001), 0),
        cpu_ms_per_delivery: round(cpu_seconds * 1e3 / summary.delivered.max(1) as f64, 3),
        cpu,
        peak_rss_mib,
    }
}
