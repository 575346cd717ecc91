//! `make chaos`: faults injected into the local stack while events flow, each ending with every
//! delivery made at least once or in the dead-letter queue, and a redrive delivering what the
//! dead-letter queue holds. One pipeline (DynamoDB Local on a data directory, the SQS emulator,
//! `fanout` and `deliver` behind devstack's event source mappings, 10 verifying receivers), short
//! retries (5 attempts 1 s apart, visibility timeout 10 s, 2 s request timeout) so faults play out
//! in seconds; scenarios in turn:
//! - `deliver` killed mid-batch (a quarter of its invocations, at a random point);
//! - receivers answering 500, hanging, resetting the connection, answering 410;
//! - the SQS emulator frozen for 10 s;
//! - DynamoDB Local stopped for 10 s and started again.
//!
//! Writes `bench/results/chaos.json`; fails when a scenario loses a delivery.

mod emulators;
mod outcome;
mod scenarios;
mod watch;

pub use outcome::{EVENTS, Scenario};

use crate::report::{Machine, git_commit, git_dirty, machine};
use crate::rig::{Rig, RigOptions};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

pub const SUBSCRIPTIONS: usize = 10;
const SCHEDULE: &str = "1s,1s,1s,1s";
const ATTEMPTS: usize = 5;
const VISIBILITY_TIMEOUT_SECONDS: u64 = 10;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
pub struct ChaosResult {
    pub generated_at: String,
    pub command: &'static str,
    pub git_commit: String,
    pub git_dirty: bool,
    pub machine: Machine,
    pub subscriptions: usize,
    pub events_per_scenario: usize,
    pub retry_schedule: &'static str,
    pub delivery_attempts: usize,
    pub visibility_timeout_seconds: u64,
    pub request_timeout_seconds: u64,
    pub scenarios: Vec<Scenario>,
    pub passed: bool,
}

/// Runs every scenario on the stack whose state is in `stack_state` and writes `out`.
///
/// # Errors
/// The stack failed, or a scenario lost deliveries.
pub async fn run(stack_state: &Path, out: &Path) -> Result<ChaosResult, String> {
    let options = RigOptions {
        parameters: vec![
            ("RetrySchedule", SCHEDULE.to_owned()),
            ("DeliveryAttempts", ATTEMPTS.to_string()),
            (
                "DeliveryVisibilityTimeout",
                VISIBILITY_TIMEOUT_SECONDS.to_string(),
            ),
        ],
        schedule: SCHEDULE.to_owned(),
        request_timeout: REQUEST_TIMEOUT,
    };
    // The bridge's and the functions' warnings (failed invocations, retries) go to a log beside
    // the stack's.
    let log = stack_state.join("bench.log");
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .try_init();
    // CHAOS_ONLY=3,4 runs some scenarios.
    let only: Vec<usize> = std::env::var("CHAOS_ONLY")
        .unwrap_or_default()
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let rig = Rig::with("chaos", SUBSCRIPTIONS, &options).await?;
    let mut scenarios = Vec::new();
    for index in (0..4).filter(|i| only.is_empty() || only.contains(&(i + 1))) {
        let from = index * 1_000;
        eprintln!("chaos: scenario {} of 4", index + 1);
        let refanned = rig.refanned.load(std::sync::atomic::Ordering::SeqCst);
        let mut scenario = match index {
            0 => scenarios::killed_deliver(&rig, from).await?,
            1 => scenarios::failing_receivers(&rig, from).await?,
            2 => scenarios::frozen_sqs(&rig, stack_state, from).await?,
            _ => scenarios::restarted_dynamodb(&rig, stack_state, from).await?,
        };
        scenario.fanout_batches_redone =
            rig.refanned.load(std::sync::atomic::Ordering::SeqCst) - refanned;
        eprintln!(
            "chaos: {:<28} {} of {} delivered ({} before the redrive of {} dead letters), {} lost, \
             {} duplicates, {} stream batches fanned out again{}",
            scenario.name,
            scenario.delivered,
            scenario.expected_deliveries,
            scenario.delivered_before_redrive,
            scenario.dead_lettered,
            scenario.lost,
            scenario.duplicates,
            scenario.fanout_batches_redone,
            if scenario.passed {
                String::new()
            } else {
                format!("; FAILED: {}", scenario.failures.join("; "))
            }
        );
        scenarios.push(scenario);
    }
    let passed = scenarios.iter().all(|s| s.passed);
    let result = ChaosResult {
        generated_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        command: "make chaos",
        git_commit: git_commit(),
        git_dirty: git_dirty(),
        machine: machine(),
        subscriptions: SUBSCRIPTIONS,
        events_per_scenario: EVENTS,
        retry_schedule: SCHEDULE,
        delivery_attempts: ATTEMPTS,
        visibility_timeout_seconds: VISIBILITY_TIMEOUT_SECONDS,
        request_timeout_seconds: REQUEST_TIMEOUT.as_secs(),
        scenarios,
        passed,
    };
    let json = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
    std::fs::write(out, format!("{json}\n")).map_err(|e| format!("{}: {e}", out.display()))?;
    if passed {
        Ok(result)
    } else {
        Err(format!("a scenario failed; see {}", out.display()))
    }
}
