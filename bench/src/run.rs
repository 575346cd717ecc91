//! Runs the phases, prints a line per step, and writes `latest.json` and `latest.md`.

use crate::RunArgs;
use crate::measure::signing_secret;
use crate::report::{Report, bytes_mb, git_commit, git_dirty, machine, markdown, targets};
use std::time::Instant;

/// Deliveries per delivery-core configuration.
const CORE_DELIVERIES: usize = 100_000;
const CORE_URLS: [usize; 3] = [1, 10, 100];

fn step(phase: &str, message: &str) {
    println!("[bench] {phase:<10} {message}");
}

/// Runs the phases the arguments ask for and writes the results.
///
/// # Errors
/// A phase failed, or the results cannot be written.
pub async fn run(args: &RunArgs) -> Result<(), String> {
    // The functions log one JSON line per delivery in Lambda; format them here too (and drop
    // them), so that cost is in the figures.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::sink)
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .try_init();
    let mut report = Report {
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        command: "make bench".into(),
        git_commit: git_commit(),
        git_dirty: git_dirty(),
        machine: machine(),
        build: match &args.build_info {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .ok_or_else(|| format!("cannot read {}", path.display()))?,
            ),
            None => None,
        },
        delivery_core: Vec::new(),
        fanout: None,
        end_to_end: None,
        footprint: Vec::new(),
        cost: None,
        targets: Vec::new(),
    };
    step(
        "machine",
        &format!(
            "{} cores, {}, {} GiB",
            report.machine.cores, report.machine.cpu, report.machine.memory_gib
        ),
    );
    if args.wants("core") {
        quiet(&args.stack_state, "core").await;
        let secret = signing_secret();
        let receiver = crate::receiver::ReceiverProcess::start(100, &secret).await?;
        for urls in CORE_URLS {
            let started = Instant::now();
            let result = crate::core::run(&receiver, &secret, urls, CORE_DELIVERIES).await?;
            step(
                "core",
                &format!(
                    "{urls:>3} URLs: {:.0} deliveries/s, batch p50 {:.2} ms p99 {:.2} ms, our CPU {:.1} µs/delivery ({:.1} s)",
                    result.deliveries_per_second,
                    result.per_delivery_latency.p50_ms,
                    result.per_delivery_latency.p99_ms,
                    result.our_cpu_us_per_delivery,
                    started.elapsed().as_secs_f64()
                ),
            );
            report.delivery_core.push(result);
        }
    }
    if args.wants("fanout") {
        quiet(&args.stack_state, "fanout").await;
        let result = crate::fanout::run().await?;
        step(
            "fanout",
            &format!(
                "1 event → {} subscriptions: p50 {:.0} ms over {} runs; {} SQS calls, {} Query page(s), {} Scan",
                result.subscriptions,
                result.enqueue_time.p50_ms,
                result.runs,
                result.sqs_calls_per_run,
                result.query_pages_per_run,
                result.scans
            ),
        );
        report.fanout = Some(result);
    }
    if args.wants("e2e") {
        quiet(&args.stack_state, "e2e").await;
        step(
            "e2e",
            &format!(
                "{} events × {} subscriptions through the local stack…",
                crate::e2e::EVENTS,
                crate::e2e::SUBSCRIPTIONS
            ),
        );
        let result = crate::e2e::run(&args.stack_state).await?;
        step(
            "e2e",
            &format!(
                "burst: {} delivered, {} lost, {} duplicates; {:.0} deliveries/s; latency p50 {:.0} ms p95 {:.0} ms p99 {:.0} ms; {}; paced: p50 {:.0} ms p99 {:.0} ms, {} lost",
                result.delivered,
                result.lost,
                result.duplicates,
                result.deliveries_per_second,
                result.latency.p50_ms,
                result.latency.p95_ms,
                result.latency.p99_ms,
                result.bound_by,
                result.paced_latency.p50_ms,
                result.paced_latency.p99_ms,
                result.paced_lost
            ),
        );
        report.end_to_end = Some(result);
    }
    if args.wants("footprint") {
        quiet(&args.stack_state, "footprint").await;
        let results = crate::footprint::run(&args.binaries).await?;
        for f in &results {
            step(
                "footprint",
                &format!(
                    "{:<13} cold start {:.1} ms (init {:.1} ms, our CPU {:.1} ms), warm p50 {:.2} ms, {:.1} MB binary, peak RSS {:.1} MiB",
                    f.function,
                    f.cold_start_ms,
                    f.init_ms,
                    f.cold_start_cpu_ms,
                    f.warm.p50_ms,
                    bytes_mb(f.binary_bytes),
                    f.peak_rss_mib
                ),
            );
        }
        report.footprint = results;
    }
    if let Some(e2e) = &report.end_to_end
        && !report.footprint.is_empty()
    {
        let cost = crate::cost::run(&report.footprint, e2e)?;
        step(
            "cost",
            &format!(
                "${:.4} per million deliveries (+${:.4} per 100 ms the receivers take)",
                cost.total_dollars, cost.per_100ms_receiver_latency_dollars
            ),
        );
        report.cost = Some(cost);
    }
    report.targets = targets(&report);
    write(args, &report)
}

fn write(args: &RunArgs, report: &Report) -> Result<(), String> {
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    let json_path = args.out.join("latest.json");
    std::fs::write(&json_path, json + "\n").map_err(|e| e.to_string())?;
    let md_path = args.out.join("latest.md");
    std::fs::write(&md_path, markdown(report)).map_err(|e| e.to_string())?;
    step(
        "done",
        &format!("{} and {}", json_path.display(), md_path.display()),
    );
    Ok(())
}

/// Waits for the local stack's emulators to go quiet before a phase, and says so if it waited.
async fn quiet(stack_state: &std::path::Path, phase: &str) {
    let pids: Vec<u32> = ["dynamodb.pid", "sqs.pid"]
        .iter()
        .filter_map(|f| crate::measure::pid_from_file(&stack_state.join(f)))
        .collect();
    let waited = crate::measure::settle(&pids, std::time::Duration::from_secs(60)).await;
    if waited.as_secs() > 1 {
        step(
            "settle",
            &format!(
                "waited {:.0} s for the emulators to go quiet before {phase}",
                waited.as_secs_f64()
            ),
        );
    }
}
