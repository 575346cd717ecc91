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
    /// What the largest line is made of, from the figures above.
    pub bound_by: String,
}

fn find<'a>(footprint: &'a [Footprint], function: &str) -> Result<&'a Footprint, String> {
    footprint
        .iter()
        .find(|f| f.function == function)
        .ok_or_else(|| format!("no footprint of {function}"))
}

/// Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB
/// (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
const MB_PER_VCPU: f64 = 1769.0;

/// Lambda cost of `invocations` invocations of a function measured at `f`: each is billed (per
/// started ms) the longer of its measured wall time and its measured CPU time stretched to the
/// share of a vCPU its memory buys.
fn lambda(name: &str, invocations: f64, f: &Footprint, why: &str) -> Line {
    #[allow(clippy::cast_precision_loss)]
    let memory_mb = f.memory_size_mb as f64;
    let cpu_bound_ms = f.warm_cpu_ms * MB_PER_VCPU / memory_mb;
    let billed_ms = f.warm.p50_ms.max(cpu_bound_ms).ceil().max(1.0);
    let gb = memory_mb / 1024.0;
    let gb_seconds = invocations * billed_ms / 1e3 * gb;
    let dollars =
        gb_seconds * prices::LAMBDA_ARM64_GB_SECOND + invocations * prices::LAMBDA_REQUEST;
    Line {
        item: format!("Lambda `{name}`"),
        arithmetic: format!(
            "{invocations:.0} invocations ({why}) × {billed_ms:.0} ms (the longer of the measured p50 {:.2} ms and {:.2} ms of CPU at {memory_mb:.0}/{MB_PER_VCPU:.0} of a vCPU = {cpu_bound_ms:.1} ms) × {gb:.3} GB = {gb_seconds:.1} GB-s × ${:.10} + {invocations:.0} × $0.20/M",
            f.warm.p50_ms,
            f.warm_cpu_ms,
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
            deliver,
            &format!("batches of {DELIVER_BATCH}"),
        ),
        lambda(
            "fanout",
            events,
            fanout,
            "one per event, unbatched: an upper bound",
        ),
        lambda(
            "resources",
            events,
            resources,
            "the API request that writes each event",
        ),
    ];
    lines.push(Line {
        item: "API Gateway HTTP API".into(),
        arithmetic: format!("{events:.0} requests (one per event) × $1.00/M"),
        dollars: events * prices::HTTP_API_REQUEST,
    });

    let sum = |per_delivery: &std::collections::BTreeMap<String, f64>,
               pick: &dyn Fn(&str) -> bool| {
        per_delivery
            .iter()
            .filter(|(k, _)| pick(k))
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    let all_sqs = |k: &str| k.starts_with("sqs:");
    let sqs_ours = sum(&e2e.function_calls_per_delivery, &all_sqs);
    let sqs_local = sum(&e2e.mapping_calls_per_delivery, &all_sqs);
    // Lambda's SQS event source mapping: a ReceiveMessage per batch and a DeleteMessageBatch for
    // what it delivered (reported failures stay, hidden by `deliver` itself).
    let sqs_mapping = 2.0 / batch;
    let sqs_calls = (sqs_ours + sqs_mapping) * DELIVERIES;
    lines.push(Line {
        item: "SQS requests".into(),
        arithmetic: format!(
            "({sqs_ours:.3} by the functions, measured + {sqs_mapping:.3} by Lambda's event source mapping: ReceiveMessage + DeleteMessageBatch per batch of {DELIVER_BATCH}) per delivery × 1M = {sqs_calls:.0} requests × $0.40/M (the local bridge's 16 pollers made {sqs_local:.3} per delivery: many of their receives came back part-empty)"
        ),
        dollars: sqs_calls * prices::SQS_REQUEST,
    });

    let is_read = |k: &str| {
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:Scan",
            "dynamodb:TransactGetItems",
        ]
        .contains(&k)
    };
    let is_write = |k: &str| k.starts_with("dynamodb:") && !is_read(k);
    let units = &e2e.function_units_per_delivery;
    let transactional = |k: &str| units.get(k).copied().unwrap_or(0.0);
    // AWS bills transactional items twice; DynamoDB Local reports them once.
    let reads = (sum(units, &is_read) + transactional("dynamodb:TransactGetItems")) * DELIVERIES;
    let function_writes =
        (sum(units, &is_write) + transactional("dynamodb:TransactWriteItems")) * DELIVERIES;
    // The API's write of each event: the change and the event item in one transaction (2 items
    // × 2 units; a new user adds its username item).
    let event_writes = 4.0 * events;
    let writes = function_writes + event_writes;
    let breakdown = units
        .iter()
        .map(|(k, v)| format!("{} {v:.2}", k.trim_start_matches("dynamodb:")))
        .collect::<Vec<_>>()
        .join(", ");
    lines.push(Line {
        item: "DynamoDB on-demand".into(),
        arithmetic: format!(
            "{function_writes:.0} write units by fanout + deliver (capacity DynamoDB reported per delivery: {breakdown}; transactional items ×2) + {event_writes:.0} for the events (4 per event: change + event item in one transaction) = {writes:.0} × $0.625/M + {reads:.0} read units × $0.125/M; stream reads by Lambda are free"
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
    let record_units = units.get("dynamodb:BatchWriteItem").copied().unwrap_or(0.0);
    let dynamodb = writes * prices::DYNAMODB_WRITE_UNIT + reads * prices::DYNAMODB_READ_UNIT;
    let bound_by = format!(
        "What bounds it: DynamoDB is {:.0} % of the total. Of its ${dynamodb:.2}, ${:.2} are the {record_units:.2} write units per delivery of the two items each delivery writes, as plain puts of up to 1 KB: its status (what `GET /api/v1/events/{{id}}` shows) and its attempt-log entry (`GET /api/v1/subscriptions/{{id}}/attempts`; every KB past the first, which a long response body excerpt adds, is one more unit); ${:.2} the events' own writes (the outbox transaction, spread over each event's {} deliveries); ${:.2} the reads. One item serving both views would need an index, and an index write costs the same unit.",
        dynamodb / total.max(f64::EPSILON) * 100.0,
        record_units * DELIVERIES * prices::DYNAMODB_WRITE_UNIT,
        event_writes * prices::DYNAMODB_WRITE_UNIT,
        e2e.subscriptions,
        reads * prices::DYNAMODB_READ_UNIT,
    );
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
        bound_by,
        notes: vec![
            "Durations are warm invocations measured here (x86_64, 2 cores, loopback receiver, local emulators), stretched where their CPU time at the configured memory's share of a vCPU would take longer; a Graviton core's speed relative to this one is not measured. The receivers' own response time is billed too: see the per-100 ms line.".into(),
            "Cold starts (init is billed for provided.al2023) and Lambda's idle SQS polling are not included; neither is the free tier.".into(),
        ],
    })
}
