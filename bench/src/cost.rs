//! Phase 5, cost: dollars per million deliveries on AWS, from the measured durations (phase 4),
//! the measured calls per delivery (phase 3) and public list prices.

use crate::e2e::E2eResult;
use crate::footprint::{DELIVER_BATCH, Footprint};
use crate::measure::round;
use serde::Serialize;

/// Public list prices, US East (N. Virginia), on-demand, past any free tier.
pub mod prices {
    /// Lambda arm64 duration, per GB-second (first 7.5 billion GB-s a month); aws.amazon.com/lambda/pricing
    pub const LAMBDA_ARM64_GB_SECOND: f64 = 0.000_013_333_4;
    /// Lambda requests, per request ($0.20 per million).
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// SQS standard queue requests, per request ($0.40 per million; each 64 KB chunk is one); aws.amazon.com/sqs/pricing
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// DynamoDB on-demand write request unit ($0.625 per million); aws.amazon.com/dynamodb/pricing/on-demand
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    /// DynamoDB on-demand read request unit ($0.125 per million).
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    /// API Gateway HTTP API, per request ($1.00 per million, first 300 million); aws.amazon.com/api-gateway/pricing
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    /// CloudWatch Logs ingestion (standard), per GB ($0.50); aws.amazon.com/cloudwatch/pricing
    pub const LOGS_GB: f64 = 0.50;
    /// X-Ray traces recorded, per trace ($5.00 per million); aws.amazon.com/xray/pricing
    pub const XRAY_TRACE: f64 = 5.00 / 1e6;
    /// X-Ray's default sampling: the first request each second, then 5 %.
    pub const XRAY_SAMPLED: f64 = 0.05;
}

/// One line of the bill.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub item: String,
    /// How it is computed, with the numbers.
    pub arithmetic: String,
    pub dollars: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostResult {
    pub deliveries: f64,
    pub subscriptions_per_event: usize,
    pub lines: Vec<Line>,
    pub total_dollars: f64,
    /// Extra Lambda cost per million deliveries for each 100 ms the receivers take to answer
    /// (a batch's deliveries run concurrently, so it waits about as long as its slowest one).
    pub per_100ms_receiver_latency_dollars: f64,
    pub notes: Vec<String>,
}

fn find<'a>(footprint: &'a [Footprint], function: &str) -> Result<&'a Footprint, String> {
    footprint
        .iter()
        .find(|f| f.function == function)
        .ok_or_else(|| format!("no footprint of {function}"))
}

/// Lambda cost of `invocations` invocations of `ms` (billed per started ms) at `memory_mb`.
fn lambda(name: &str, invocations: f64, ms: f64, memory_mb: u64, why: &str) -> Line {
    let billed_ms = ms.ceil().max(1.0);
    #[allow(clippy::cast_precision_loss)]
    let gb = memory_mb as f64 / 1024.0;
    let gb_seconds = invocations * billed_ms / 1e3 * gb;
    let dollars =
        gb_seconds * prices::LAMBDA_ARM64_GB_SECOND + invocations * prices::LAMBDA_REQUEST;
    Line {
        item: format!("Lambda `{name}`"),
        arithmetic: format!(
            "{invocations:.0} invocations ({why}) × {billed_ms:.0} ms (measured p50 {ms:.2} ms, billed per ms) × {gb:.3} GB = {gb_seconds:.1} GB-s × ${:.10} + {invocations:.0} × $0.20/M",
            prices::LAMBDA_ARM64_GB_SECOND
        ),
        dollars,
    }
}

/// Computes the bill for one million deliveries.
///
/// # Errors
/// A needed measurement is missing.
#[allow(clippy::too_many_lines)]
pub fn run(footprint: &[Footprint], e2e: &E2eResult) -> Result<CostResult, String> {
    const DELIVERIES: f64 = 1e6;
    #[allow(clippy::cast_precision_loss)]
    let per_event = e2e.subscriptions as f64;
    let events = DELIVERIES / per_event;
    let deliver = find(footprint, "deliver")?;
    let fanout = find(footprint, "fanout")?;
    let resources = find(footprint, "resources")?;
    #[allow(clippy::cast_precision_loss)]
    let batch = DELIVER_BATCH as f64;
    let deliver_invocations = DELIVERIES / batch;
    let mut lines = vec![
        lambda(
            "deliver",
            deliver_invocations,
            deliver.warm.p50_ms,
            deliver.memory_size_mb,
            &format!("batches of {DELIVER_BATCH}"),
        ),
        lambda(
            "fanout",
            events,
            fanout.warm.p50_ms,
            fanout.memory_size_mb,
            "one per event, unbatched: an upper bound",
        ),
        lambda(
            "resources",
            events,
            resources.warm.p50_ms,
            resources.memory_size_mb,
            "the API request that writes each event",
        ),
    ];
    lines.push(Line {
        item: "API Gateway HTTP API".into(),
        arithmetic: format!("{events:.0} requests (one per event) × $1.00/M"),
        dollars: events * prices::HTTP_API_REQUEST,
    });

    let sum = |calls: &std::collections::BTreeMap<String, f64>, pick: &dyn Fn(&str) -> bool| {
        calls
            .iter()
            .filter(|(k, _)| pick(k))
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    let all_sqs = |k: &str| k.starts_with("sqs:");
    let sqs_ours = sum(&e2e.function_calls_per_delivery, &all_sqs);
    let sqs_mappings = sum(&e2e.mapping_calls_per_delivery, &all_sqs);
    let sqs_calls = (sqs_ours + sqs_mappings) * DELIVERIES;
    lines.push(Line {
        item: "SQS requests".into(),
        arithmetic: format!(
            "({sqs_ours:.3} by the functions + {sqs_mappings:.3} by the event source mapping, measured per delivery) × 1M = {sqs_calls:.0} requests × $0.40/M"
        ),
        dollars: sqs_calls * prices::SQS_REQUEST,
    });

    let is_read = |k: &str| {
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:Scan",
        ]
        .contains(&k)
    };
    let is_write = |k: &str| k.starts_with("dynamodb:") && !is_read(k);
    let transactions = e2e
        .function_calls_per_delivery
        .get("dynamodb:TransactWriteItems")
        .copied()
        .unwrap_or(0.0);
    let reads = sum(&e2e.function_calls_per_delivery, &is_read) * DELIVERIES;
    // A transactional write costs 2 units per item; ours write at most 2 items (status + attempt).
    let writes = (sum(&e2e.function_calls_per_delivery, &is_write) + 3.0 * transactions)
        * DELIVERIES
        // The event itself: one transaction of the change and the event item (2 items × 2).
        + 4.0 * events;
    lines.push(Line {
        item: "DynamoDB on-demand".into(),
        arithmetic: format!(
            "{writes:.0} write units (calls per delivery measured, each item ≤ 1 KB, transactions ×2 per item; plus 4 per event for the change + event transaction) × $0.625/M + {reads:.0} read units (≤ 4 KB each) × $0.125/M; stream reads by Lambda are free"
        ),
        dollars: writes * prices::DYNAMODB_WRITE_UNIT + reads * prices::DYNAMODB_READ_UNIT,
    });

    let log_bytes = deliver.log_bytes_per_invocation * deliver_invocations
        + fanout.log_bytes_per_invocation * events
        + resources.log_bytes_per_invocation * events;
    let log_gb = log_bytes / 1e9;
    lines.push(Line {
        item: "CloudWatch Logs".into(),
        arithmetic: format!(
            "{:.0} B per deliver invocation + {:.0} B per fanout and {:.0} B per resources invocation (measured JSON log output) = {log_gb:.3} GB × $0.50/GB",
            deliver.log_bytes_per_invocation,
            fanout.log_bytes_per_invocation,
            resources.log_bytes_per_invocation
        ),
        dollars: log_gb * prices::LOGS_GB,
    });
    let traces = (deliver_invocations + 2.0 * events) * prices::XRAY_SAMPLED;
    lines.push(Line {
        item: "X-Ray (Tracing: Active)".into(),
        arithmetic: format!(
            "{traces:.0} traces (5 % of {:.0} invocations sampled) × $5.00/M",
            deliver_invocations + 2.0 * events
        ),
        dollars: traces * prices::XRAY_TRACE,
    });
    for line in &mut lines {
        line.dollars = round(line.dollars, 4);
    }
    let total = round(lines.iter().map(|l| l.dollars).sum(), 4);
    #[allow(clippy::cast_precision_loss)]
    let per_100ms = round(
        deliver_invocations
            * 0.1
            * (deliver.memory_size_mb as f64 / 1024.0)
            * prices::LAMBDA_ARM64_GB_SECOND,
        4,
    );
    Ok(CostResult {
        deliveries: DELIVERIES,
        subscriptions_per_event: e2e.subscriptions,
        lines,
        total_dollars: total,
        per_100ms_receiver_latency_dollars: per_100ms,
        notes: vec![
            "Durations are warm invocations measured here (x86_64, 2 cores, loopback receiver, local emulators); on arm64 at the configured memory Lambda gives a fraction of a vCPU, so CPU-bound parts take longer. The receivers' own response time is billed too: see the per-100 ms line.".into(),
            "Cold starts (init is billed for provided.al2023) and Lambda's idle SQS polling are not included; neither is the free tier.".into(),
        ],
    })
}
