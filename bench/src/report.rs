//! Runs the phases, prints a line per step, and writes `latest.json` and `latest.md`.

use crate::RunArgs;
use crate::core::CoreResult;
use crate::cost::CostResult;
use crate::e2e::E2eResult;
use crate::fanout::FanoutResult;
use crate::footprint::Footprint;
use serde::Serialize;
use std::fmt::Write as _;
use std::time::Instant;

/// Deliveries per delivery-core configuration.
const CORE_DELIVERIES: usize = 100_000;
const CORE_URLS: [usize; 3] = [1, 10, 100];

/// A fresh `whsec_` secret for this run's subscriptions.
#[must_use]
pub fn signing_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    shared::domain::secrets::fill_random(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub memory_gib: f64,
    pub os: String,
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub what: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub command: String,
    pub git_commit: String,
    pub machine: Machine,
    /// `sam build` as `local/bench.sh` ran it: `command`, `seconds`, `cold`.
    pub build: Option<serde_json::Value>,
    pub delivery_core: Vec<CoreResult>,
    pub fanout: Option<FanoutResult>,
    pub end_to_end: Option<E2eResult>,
    pub footprint: Vec<Footprint>,
    pub cost: Option<CostResult>,
    pub targets: Vec<Target>,
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let memory_kib: f64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_default();
    Machine {
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        cpu,
        memory_gib: crate::measure::round(memory_kib / 1024.0 / 1024.0, 1),
        os,
    }
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

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

#[allow(clippy::cast_precision_loss)]
fn bytes_mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn target(what: &str, target: &str, measured: String, met: bool) -> Target {
    Target {
        what: what.into(),
        target: target.into(),
        measured,
        met,
    }
}

fn targets(report: &Report) -> Vec<Target> {
    let mut targets = Vec::new();
    if let Some(worst) = report
        .delivery_core
        .iter()
        .min_by(|a, b| a.deliveries_per_second.total_cmp(&b.deliveries_per_second))
    {
        targets.push(target(
            "Delivery core throughput (lowest of 1/10/100 URLs)",
            "≥ 5,000 deliveries/s",
            format!("{:.0} deliveries/s", worst.deliveries_per_second),
            worst.deliveries_per_second >= 5000.0,
        ));
    }
    if let Some(worst) = report.delivery_core.iter().max_by(|a, b| {
        a.our_cpu_us_per_delivery
            .total_cmp(&b.our_cpu_us_per_delivery)
    }) {
        targets.push(target(
            "Our CPU per delivery (highest of 1/10/100 URLs)",
            "< 100 µs",
            format!("{:.1} µs", worst.our_cpu_us_per_delivery),
            worst.our_cpu_us_per_delivery < 100.0,
        ));
    }
    if let Some(f) = &report.fanout {
        targets.push(target(
            "Fan-out, 1 event → 1,000 subscriptions (p50)",
            "< 1 s",
            format!("{:.0} ms", f.enqueue_time.p50_ms),
            f.enqueue_time.p50_ms < 1000.0,
        ));
        targets.push(target(
            "Fan-out calls",
            "≤ 1,000/10 SQS calls, no Scan",
            format!("{} SQS, {} Scan", f.sqs_calls_per_run, f.scans),
            f.sqs_calls_per_run <= 100 && f.scans == 0,
        ));
    }
    if let Some(e) = &report.end_to_end {
        let paced = format!(
            "End to end, {:.0} events/s × {} subscriptions",
            e.paced_events_per_second, e.subscriptions
        );
        targets.push(target(
            &format!("{paced}: p50"),
            "< 1 s",
            format!("{:.0} ms", e.paced_latency.p50_ms),
            e.paced_latency.p50_ms < 1000.0,
        ));
        targets.push(target(
            &format!("{paced}: p99"),
            "< 2 s",
            format!("{:.0} ms", e.paced_latency.p99_ms),
            e.paced_latency.p99_ms < 2000.0,
        ));
        targets.push(target(
            "Lost deliveries (burst + paced)",
            "0",
            (e.lost + e.paced_lost).to_string(),
            e.lost + e.paced_lost == 0,
        ));
    }
    for f in &report.footprint {
        targets.push(target(
            &format!("`{}` cold start / binary / RSS", f.function),
            "< 30 ms / < 15 MB / < 40 MB",
            format!(
                "{:.1} ms / {:.1} MB / {:.1} MiB",
                f.cold_start_ms,
                bytes_mb(f.binary_bytes),
                f.peak_rss_mib
            ),
            f.cold_start_ms < 30.0 && f.binary_bytes < 15_000_000 && f.peak_rss_mib < 40.0,
        ));
    }
    if let Some(c) = &report.cost {
        targets.push(target(
            "Cost per million deliveries",
            "< $1",
            format!("${:.4}", c.total_dollars),
            c.total_dollars < 1.0,
        ));
    }
    targets
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

/// The Markdown summary (also what the README shows between its bench markers).
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let _ = writeln!(
        md,
        "Measured by `{}` at {} (commit {}) on {} cores ({}), {} GiB RAM, {}. Raw figures: `bench/results/latest.json`.\n",
        report.command, report.generated_at, report.git_commit, m.cores, m.cpu, m.memory_gib, m.os
    );
    if let Some(build) = &report.build {
        let _ = writeln!(
            md,
            "**Build**: `{}` took {} s ({}).\n",
            build["command"].as_str().unwrap_or("sam build"),
            build["seconds"],
            if build["cold"].as_bool() == Some(true) {
                "cold: no earlier release build in target/"
            } else {
                "warm: an earlier release build was in target/"
            }
        );
    }
    if !report.targets.is_empty() {
        md.push_str("| Target | Aim | Measured | Met |\n|---|---|---|---|\n");
        for t in &report.targets {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                t.what,
                t.target,
                t.measured,
                if t.met { "yes" } else { "**no**" }
            );
        }
        md.push('\n');
    }
    if !report.delivery_core.is_empty() {
        let _ = writeln!(
            md,
            "**Delivery core**: the `deliver` handler in-process (memory store and queue), SQS-shaped batches of {}, {} invocations in flight, signed POSTs over keep-alive HTTP/1.1 to receivers in another process that verify every signature; CPU from `/proc`.\n",
            crate::core::BATCH_SIZE,
            crate::core::CONCURRENCY
        );
        md.push_str("| Receiver URLs | Deliveries | Deliveries/s | Batch p50 | Batch p99 | Our CPU per delivery | Receiver CPU per delivery |\n|---|---|---|---|---|---|---|\n");
        for c in &report.delivery_core {
            let _ = writeln!(
                md,
                "| {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.1} µs | {:.1} µs |",
                c.receiver_urls,
                c.deliveries,
                c.deliveries_per_second,
                c.per_delivery_latency.p50_ms,
                c.per_delivery_latency.p99_ms,
                c.our_cpu_us_per_delivery,
                c.receiver_cpu_us_per_delivery
            );
        }
        md.push('\n');
    }
    if let Some(f) = &report.fanout {
        let calls = f
            .calls_per_run
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            md,
            "**Fan-out**: 1 event to {} subscriptions on DynamoDB Local + the SQS emulator, `fan_out` as the `fanout` handler runs it, {} runs: p50 {:.0} ms, max {:.0} ms until SQS accepted the last message. Calls per run: {calls} (subscriptions ≈ {:.2} MB, so 1 Query page per MB means {} page(s)).\n",
            f.subscriptions,
            f.runs,
            f.enqueue_time.p50_ms,
            f.enqueue_time.max_ms,
            bytes_mb(f.subscription_bytes as u64),
            f.subscription_bytes.div_ceil(1_000_000)
        );
    }
    if let Some(e) = &report.end_to_end {
        let _ = writeln!(
            md,
            "**End to end** on the local stack (DynamoDB Local, the SQS emulator, devstack's event source mappings with {} SQS pollers, both handlers in one process), stream → `fanout` → SQS → `deliver` → receivers that verify. *Burst*: {} events × {} subscriptions written as the API writes them ({} at a time, in {:.1} s): {} of {} delivered, **{} lost**, {} duplicates; **{:.0} deliveries/s** sustained over {:.1} s; event created → receiver verified p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms (the backlog's wait). What bounds the throughput: {}. *Paced*: {} events at {:.0}/s × {} subscriptions: p50 **{:.0} ms**, p95 {:.0} ms, p99 **{:.0} ms**, {} lost.\n",
            e.sqs_pollers,
            e.events,
            e.subscriptions,
            e.publishers,
            e.publish_seconds,
            e.delivered,
            e.expected_deliveries,
            e.lost,
            e.duplicates,
            e.deliveries_per_second,
            e.seconds,
            e.latency.p50_ms,
            e.latency.p95_ms,
            e.latency.p99_ms,
            e.bound_by,
            e.paced_events,
            e.paced_events_per_second,
            e.subscriptions,
            e.paced_latency.p50_ms,
            e.paced_latency.p95_ms,
            e.paced_latency.p99_ms,
            e.paced_lost
        );
    }
    if !report.footprint.is_empty() {
        let _ = write!(
            md,
            "**Cold start and footprint** of the release binaries `sam build` packages, each started under a Lambda Runtime API emulator with its template environment and invoked with its `events/` sample; init, cold start and CPU are the medians of {} process starts (warm: 100 more invocations of the last; `resources` then creates a user too, so its peak RSS includes Argon2id hashing).\n\n",
            crate::footprint::COLD_STARTS
        );
        md.push_str("| Function | Binary | Init | Cold start (first answer) | Its CPU until then | Warm p50 | Warm p99 | CPU per warm invocation | Peak RSS | Memory / timeout configured |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for f in &report.footprint {
            let _ = writeln!(
                md,
                "| `{}` ({}) | {:.1} MB | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} MiB | {} MB / {} s |",
                f.function,
                f.sample,
                bytes_mb(f.binary_bytes),
                f.init_ms,
                f.cold_start_ms,
                f.cold_start_cpu_ms,
                f.warm.p50_ms,
                f.warm.p99_ms,
                f.warm_cpu_ms,
                f.peak_rss_mib,
                f.memory_size_mb,
                f.timeout_seconds
            );
        }
        for f in report.footprint.iter().filter(|f| f.cold_start_ms >= 30.0) {
            let _ = writeln!(
                md,
                "\n`{}` over 30 ms: of its {:.1} ms to the first answer, {:.1} ms were its own CPU; the rest it waited, for the local emulators and the receivers. Init took {:.1} ms and the first invocation {:.1} ms, against {:.2} ms (p50) and {:.2} ms of CPU for a warm one: the first invocation also opens every connection.",
                f.function,
                f.cold_start_ms,
                f.cold_start_cpu_ms,
                f.init_ms,
                f.first_invocation_ms,
                f.warm.p50_ms,
                f.warm_cpu_ms
            );
        }
        md.push('\n');
    }
    if let Some(c) = &report.cost {
        let _ = writeln!(
            md,
            "**Cost** per {:.0} deliveries on AWS (us-east-1 list prices, arm64, {} subscriptions per event):\n",
            c.deliveries, c.subscriptions_per_event
        );
        md.push_str("| Item | Arithmetic | $ |\n|---|---|---|\n");
        for line in &c.lines {
            let _ = writeln!(
                md,
                "| {} | {} | {:.4} |",
                line.item, line.arithmetic, line.dollars
            );
        }
        let _ = writeln!(
            md,
            "| **Total** | | **{:.4}** |\n\n{}\n\nEach 100 ms the receivers take to answer adds ${:.4} per million deliveries (`deliver` waits for them). {}\n",
            c.total_dollars,
            c.bound_by,
            c.per_100ms_receiver_latency_dollars,
            c.notes.join(" ")
        );
    }
    md
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
