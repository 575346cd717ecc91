//! Phase 5, cost: dollars per million deliveries on AWS, from the measured durations (phase 4),
//! the measured calls per delivery (phase 3) and public list prices.

use crate::e2e::E2eResult;
use crate::footprint::{DELIVER_BATCH, Footprint};
use crate::measure::round;
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// X-Ray's sampling for Lambda (not configurable): the first request each second, then 5 %.
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
/// started ms) the longer of its wall time `wall_ms` and its CPU time `cpu_ms` stretched to the
/// share of a vCPU its memory buys.
fn lambda(
    name: &str,
    invocations: f64,
    wall_ms: f64,
    cpu_ms: f64,
    f: &Footprint,
    why: &str,
) -> Line {
    #[allow(clippy::cast_precision_loss)]
    let memory_mb = f.memory_size_mb as f64;
    let cpu_bound_ms = cpu_ms * MB_PER_VCPU / memory_mb;
    let billed_ms = wall_ms.max(cpu_bound_ms).ceil().max(1.0);
    let gb = memory_mb / 1024.0;
    let gb_seconds = invocations * billed_ms / 1e3 * gb;
    let dollars =
        gb_seconds * prices::LAMBDA_ARM64_GB_SECOND + invocations * prices::LAMBDA_REQUEST;
    Line {
        item: format!("Lambda `{name}`"),
        arithmetic: format!(
            "{invocations:.0} invocations ({why}) × {billed_ms:.0} ms (the longer of {wall_ms:.2} ms measured and {cpu_ms:.2} ms of CPU at {memory_mb:.0}/{MB_PER_VCPU:.0} of a vCPU = {cpu_bound_ms:.1} ms) × {gb:.3} GB = {gb_seconds:.1} GB-s × ${:.10} + {invocations:.0} × $0.20/M",
            prices::LAMBDA_ARM64_GB_SECOND
        ),
        dollars,
    }
}

/// The authorizer's answers are cached this long per key (`ReauthorizeEvery` in the template).
const AUTHORIZER_CACHE_SECONDS: f64 = 300.0;

fn sum(per: &BTreeMap<String, f64>, pick: impl Fn(&str) -> bool) -> f64 {
    per.iter().filter(|(k, _)| pick(k)).map(|(_, v)| v).sum()
}

fn is_read(operation: &str) -> bool {
    [
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        "dynamodb:Scan",
        "dynamodb:TransactGetItems",
    ]
    .contains(&operation)
}

/// Read and write units of `units` (by operation); AWS bills transactional items twice, which
/// DynamoDB Local does not report (the priced path has no transaction: a custom event is one
/// `PutItem`, a delivery's records `BatchWriteItem` puts).
fn read_write(units: &BTreeMap<String, f64>) -> (f64, f64) {
    let transactional = |k: &str| units.get(k).copied().unwrap_or(0.0);
    let reads = sum(units, is_read) + transactional("dynamodb:TransactGetItems");
    let writes = sum(units, |k| k.starts_with("dynamodb:") && !is_read(k))
        + transactional("dynamodb:TransactWriteItems");
    (reads, writes)
}

fn breakdown(per: &BTreeMap<String, f64>) -> String {
    per.iter()
        .map(|(k, v)| format!("{} {v:.3}", k.split(':').nth(1).unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// X-Ray's fixed sampling for Lambda: the first invocation each second, then 5 %: the share of
/// `per_second` invocations a second that is traced.
fn traced_share(per_second: f64) -> f64 {
    if per_second <= 1.0 {
        1.0
    } else {
        (1.0 + prices::XRAY_SAMPLED * (per_second - 1.0)) / per_second
    }
}

/// Computes the bill for one million deliveries, from the paced run's measured calls, units and
/// invocations (a steady 10 events a second) and the footprint's durations.
///
/// # Errors
/// A needed measurement is missing.
#[allow(clippy::too_many_lines)]
pub fn run(footprint: &[Footprint], e2e: &E2eResult) -> Result<CostResult, String> {
    const DELIVERIES: f64 = 1e6;
    let m = &e2e.paced_meter;
    #[allow(clippy::cast_precision_loss)]
    let (per_event, measured_deliveries, measured_events) = (
        e2e.subscriptions as f64,
        m.deliveries.max(1) as f64,
        m.events.max(1) as f64,
    );
    let events = DELIVERIES / per_event;
    let rate = e2e.paced_events_per_second;
    let deliver = find(footprint, "deliver")?;
    let fanout = find(footprint, "fanout")?;
    let api = find(footprint, "subscriptions")?;
    let authorizer = find(footprint, "authorizer")?;
    #[allow(clippy::cast_precision_loss)]
    let (deliver_invocations, fanout_invocations) = (
        m.deliver_invocations as f64 / measured_deliveries * DELIVERIES,
        m.fanout_invocations as f64 / measured_events * events,
    );
    let authorizer_invocations = events / (rate * AUTHORIZER_CACHE_SECONDS).max(1.0);
    // deliver's CPU grows with its batch: the sample's CPU per delivery times the deliveries an
    // invocation measured.
    #[allow(clippy::cast_precision_loss)]
    let deliver_cpu_ms =
        deliver.warm_cpu_ms / DELIVER_BATCH as f64 * m.deliveries_per_deliver_invocation.max(1.0);
    let mut lines = vec![
        Line {
            item: "API Gateway HTTP API".into(),
            arithmetic: format!(
                "{events:.0} requests (one POST /api/v1/events per event) × $1.00/M"
            ),
            dollars: events * prices::HTTP_API_REQUEST,
        },
        lambda(
            "subscriptions",
            events,
            api.warm.p50_ms,
            api.warm_cpu_ms,
            api,
            "the POST /api/v1/events that writes each event",
        ),
        lambda(
            "authorizer",
            authorizer_invocations,
            authorizer.warm.p50_ms,
            authorizer.warm_cpu_ms,
            authorizer,
            &format!(
                "its answer cached {AUTHORIZER_CACHE_SECONDS:.0} s per key: one key at {rate:.0} requests/s"
            ),
        ),
        lambda(
            "fanout",
            fanout_invocations,
            fanout.warm.p50_ms,
            fanout.warm_cpu_ms,
            fanout,
            &format!(
                "measured: {:.2} stream records per invocation",
                m.records_per_fanout_invocation
            ),
        ),
        lambda(
            "deliver",
            deliver_invocations,
            deliver.warm.p50_ms,
            deliver_cpu_ms,
            deliver,
            &format!(
                "measured: {:.2} messages, {:.1} deliveries per invocation; CPU {:.3} ms per delivery",
                m.messages_per_deliver_invocation,
                m.deliveries_per_deliver_invocation,
                deliver.warm_cpu_ms / DELIVER_BATCH as f64
            ),
        ),
    ];

    let all_sqs = |k: &str| k.starts_with("sqs:");
    let sqs_ours = sum(&m.function_calls_per_delivery, all_sqs);
    let sqs_mapping = sum(&m.mapping_calls_per_delivery, all_sqs);
    let sqs_calls = (sqs_ours + sqs_mapping) * DELIVERIES;
    lines.push(Line {
        item: "SQS requests".into(),
        arithmetic: format!(
            "({sqs_ours:.3} by fanout and deliver: {} + {sqs_mapping:.3} by the event source mapping: {}) per delivery, measured × 1M = {sqs_calls:.0} requests × $0.40/M",
            breakdown(&m.function_calls_per_delivery
                .iter()
                .filter(|(k, _)| all_sqs(k))
                .map(|(k, v)| (k.clone(), *v))
                .collect()),
            breakdown(&m.mapping_calls_per_delivery),
        ),
        dollars: sqs_calls * prices::SQS_REQUEST,
    });

    let (reads, writes) = read_write(&m.function_units_per_delivery);
    lines.push(Line {
        item: "DynamoDB: deliveries".into(),
        arithmetic: format!(
            "per delivery, measured ({}): {writes:.3} write units × 1M × $0.625/M + {reads:.3} read units × 1M × $0.125/M; stream reads by Lambda are free",
            breakdown(&m.function_units_per_delivery)
        ),
        dollars: writes * DELIVERIES * prices::DYNAMODB_WRITE_UNIT
            + reads * DELIVERIES * prices::DYNAMODB_READ_UNIT,
    });
    let (api_reads, api_writes) = read_write(&m.api_units_per_event);
    lines.push(Line {
        item: "DynamoDB: events".into(),
        arithmetic: format!(
            "per event, measured ({}): {api_writes:.3} write units × {events:.0} × $0.625/M + {api_reads:.3} read units × {events:.0} × $0.125/M",
            breakdown(&m.api_units_per_event)
        ),
        dollars: api_writes * events * prices::DYNAMODB_WRITE_UNIT
            + api_reads * events * prices::DYNAMODB_READ_UNIT,
    });

    let log_bytes = deliver.log_bytes_per_invocation * deliver_invocations
        + fanout.log_bytes_per_invocation * fanout_invocations
        + api.log_bytes_per_invocation * events
        + authorizer.log_bytes_per_invocation * authorizer_invocations;
    let log_gb = log_bytes / 1e9;
    lines.push(Line {
        item: "CloudWatch Logs".into(),
        arithmetic: format!(
            "measured JSON output per invocation: deliver {:.0} B, fanout {:.0} B, subscriptions {:.0} B, authorizer {:.0} B; Lambda's own START/END/REPORT lines are not written (SystemLogLevel: WARN) = {log_gb:.4} GB × $0.50/GB",
            deliver.log_bytes_per_invocation,
            fanout.log_bytes_per_invocation,
            api.log_bytes_per_invocation,
            authorizer.log_bytes_per_invocation,
        ),
        dollars: log_gb * prices::LOGS_GB,
    });
    let invocations = events + fanout_invocations + deliver_invocations + authorizer_invocations;
    #[allow(clippy::cast_precision_loss)]
    let active_traces = events * traced_share(rate)
        + fanout_invocations * traced_share(rate * fanout_invocations / events)
        + deliver_invocations * traced_share(rate * deliver_invocations / events);
    lines.push(Line {
        item: "X-Ray".into(),
        arithmetic: format!(
            "template default Tracing: PassThrough, nothing upstream samples: 0 traces (with Tracing: Active, Lambda's fixed 1/s + 5 % would trace {active_traces:.0} of {invocations:.0} invocations at this pace: ${:.4})",
            active_traces * prices::XRAY_TRACE
        ),
        dollars: 0.0,
    });
    for line in &mut lines {
        line.dollars = round(line.dollars, 4);
    }
    let total = round(lines.iter().map(|l| l.dollars).sum(), 4);
    let mut ranked: Vec<&Line> = lines.iter().collect();
    ranked.sort_by(|a, b| b.dollars.total_cmp(&a.dollars));
    let bound_by = format!(
        "What bounds it: {}. API Gateway's is one request per event, fixed whatever the design; a million deliveries at 10 subscriptions per event are {events:.0} events.",
        ranked
            .iter()
            .take(3)
            .map(|l| format!(
                "{} ${:.4} ({:.0} %)",
                l.item,
                l.dollars,
                l.dollars / total.max(f64::EPSILON) * 100.0
            ))
            .collect::<Vec<_>>()
            .join(", ")
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
            format!("Priced at the paced run: {} events at {rate:.0}/s × {} subscriptions = {:.0} deliveries; its calls, units and invocations were counted (the burst's are in latest.json).", m.events, e2e.subscriptions, measured_deliveries),
            "Measured locally, assumed equal on AWS: DynamoDB Local's consumed capacity of plain reads and writes (1 write unit per KB, 0.5 read unit per 4 KB eventually consistent); devstack's bridge stands in for Lambda's pollers (5 SQS pollers long-polling 20 s with the template's BatchSize and MaximumBatchingWindowInSeconds; each stream shard read 4 times a second, Lambda's base rate).".into(),
            "Durations are warm invocations measured here (x86_64, 2 cores, loopback receiver, local emulators), stretched where their CPU time at the configured memory's share of a vCPU would take longer; a Graviton core's speed relative to this one is not measured. The receivers' own response time is billed too: see the per-100 ms line.".into(),
            format!(
                "The events priced are custom events (`POST /api/v1/events`: one PutItem, {:.0} write unit). Events of the resources API are written with their change in one transaction (both billed twice), measured: {}. Carrying them on the data table's own stream would save only the event item's share (the event would still need an item for `GET /api/v1/events/{{id}}`, listing and resend, written after the fact without the transaction), at the price of a second stream and mapping: not done.",
                read_write(&m.api_units_per_event).1,
                e2e.resource_event_write_units
                    .iter()
                    .map(|(t, u)| format!("{t} {u:.0} units"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "Not included: cold starts (init is billed for provided.al2023), Lambda's idle SQS polling between bursts, storage (DynamoDB items kept 30 days, about 1 KB per event and per ten deliveries), data transfer out, and the free tier.".into(),
        ],
    })
}
