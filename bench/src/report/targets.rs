//! Each target of the bench, measured or not, and whether it is met.

use super::results::{Report, Target, bytes_mb};

fn target(what: &str, target: &str, measured: String, met: bool) -> Target {
    Target {
        what: what.into(),
        target: target.into(),
        measured,
        met,
    }
}

pub(crate) fn targets(report: &Report) -> Vec<Target> {
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
            "< $0.40",
            format!("${:.4}", c.total_dollars),
            c.total_dollars < 0.40,
        ));
    }
    targets
}
