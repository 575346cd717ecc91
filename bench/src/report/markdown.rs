//! The Markdown summary of a run.

use super::results::{Report, bytes_mb};
use std::fmt::Write as _;

/// The Markdown summary (also what the README shows between its bench markers).
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn markdown(report: &Report) -> String {
    let mut md = String::new();
    let m = &report.machine;
    let _ = writeln!(
        md,
        "Measured by `{}` at {} (commit {}{}) on {} cores ({}), {} GiB RAM, {}. Raw figures: `bench/results/latest.json`.\n",
        report.command,
        report.generated_at,
        report.git_commit,
        if report.git_dirty {
            ", **with uncommitted changes**"
        } else {
            ", working tree clean"
        },
        m.cores,
        m.cpu,
        m.memory_gib,
        m.os
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
            "**Delivery core**: the `deliver` handler in-process (memory store and queue), SQS-shaped batches of {} messages (each one event to up to 10 subscriptions, as `fanout` makes them), {} invocations in flight, signed POSTs over keep-alive HTTP/1.1 to receivers in another process that verify every signature; CPU from `/proc`.\n",
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
            "**End to end** on the local stack (DynamoDB Local, the SQS emulator, devstack's event source mappings with {} SQS pollers, both handlers in one process), stream → `fanout` → SQS → `deliver` → receivers that verify. *Burst*: {} events × {} subscriptions written through the API (`POST /api/v1/events` to the `subscriptions` handler, {} at a time, in {:.1} s): {} of {} delivered, **{} lost**, {} duplicates; **{:.0} deliveries/s** sustained over {:.1} s; event created → receiver verified p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms (the backlog's wait). What bounds the throughput: {}. *Paced*: {} events at {:.0}/s × {} subscriptions: p50 **{:.0} ms**, p95 {:.0} ms, p99 **{:.0} ms**, {} lost.\n",
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
        for (run, meter) in [("Burst", &e.burst_meter), ("Paced", &e.paced_meter)] {
            let _ = writeln!(
                md,
                "*{run}, counted*: `deliver` invoked {} times ({:.2} messages, {:.1} deliveries each), `fanout` {} times ({:.2} stream records each); SQS requests per delivery by the functions {:.3} and by the event source mapping {:.3}; DynamoDB units per delivery {:.3}, per event written by the API {:.3}.\n",
                meter.deliver_invocations,
                meter.messages_per_deliver_invocation,
                meter.deliveries_per_deliver_invocation,
                meter.fanout_invocations,
                meter.records_per_fanout_invocation,
                meter
                    .function_calls_per_delivery
                    .iter()
                    .filter(|(k, _)| k.starts_with("sqs:"))
                    .map(|(_, v)| v)
                    .sum::<f64>(),
                meter.mapping_calls_per_delivery.values().sum::<f64>(),
                meter.function_units_per_delivery.values().sum::<f64>(),
                meter.api_units_per_event.values().sum::<f64>(),
            );
        }
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
