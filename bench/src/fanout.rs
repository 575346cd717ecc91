//! Phase 2, fan-out: one event to 1,000 subscriptions on the local stack (DynamoDB Local + the
//! SQS emulator): time until every message is enqueued, and the calls it took.

use crate::measure::Percentiles;
use crate::stack::{CallCounter, counted, fresh, queue_url};
use futures::StreamExt as _;
use serde::Serialize;
use shared::adapters::sqs::SqsQueue;
use shared::model::{AccountId, EventId, SubscriptionId};
use shared::ports::SubscriptionStore;
use std::collections::BTreeMap;
use std::time::Instant;

pub const SUBSCRIPTIONS: usize = 1000;
const RUNS: usize = 5;
const ACCOUNT: AccountId = AccountId::from_parts(1_700_000_000_000, 3);

#[derive(Debug, Clone, Serialize)]
pub struct FanoutResult {
    pub subscriptions: usize,
    pub runs: usize,
    /// From the start of `fan_out` (what the `fanout` handler runs per event insert) until
    /// SQS accepted the last message.
    pub enqueue_time: Percentiles,
    /// Calls of one run, by service and operation.
    pub calls_per_run: BTreeMap<String, u64>,
    pub sqs_calls_per_run: u64,
    pub query_pages_per_run: u64,
    pub scans: u64,
    /// Bytes of the subscription items the Query read (DynamoDB's item size rules, roughly:
    /// attribute names + values), to compare pages with 1 MB.
    pub subscription_bytes: usize,
}

/// Runs the phase.
///
/// # Errors
/// The stack is unreachable, or a run did not enqueue every message.
pub async fn run() -> Result<FanoutResult, String> {
    let (clients, stack) = fresh("fanout", &[]).await?;
    let url = queue_url(&stack, "DeliveryQueue")?;
    let setup = devstack::samples::store(&clients, &stack)?;
    let secret = crate::measure::signing_secret();
    let mut bytes = 0;
    let subscriptions: Vec<_> = (0..SUBSCRIPTIONS)
        .map(|i| {
            let mut s = crate::core::subscription(
                SubscriptionId::new(),
                ACCOUNT,
                format!("https://hooks{i}.example.com/webhooks/rusthook"),
                &secret,
            );
            // Half listen to everything, half to this event's family only.
            if i % 2 == 1 {
                s.event_types = vec!["order.*".into()];
            }
            bytes += serde_json::to_string(&s).map_or(0, |t| t.len());
            s
        })
        .collect();
    let created: Vec<_> = futures::stream::iter(subscriptions.iter())
        .map(|s| setup.create_subscription(s))
        .buffer_unordered(16)
        .collect()
        .await;
    for result in created {
        result.map_err(|e| e.to_string())?;
    }

    let counter = CallCounter::default();
    let measured = counted(&clients, &counter);
    let store = devstack::samples::store(&measured, &stack)?;
    let queue = SqsQueue::new(measured.sqs.clone(), url.clone());
    let mut times = Vec::new();
    let mut calls = BTreeMap::new();
    for run in 0..RUNS {
        let before = queued(&clients.sqs, &url).await?;
        let mut event = crate::core::event(EventId::new(), ACCOUNT, run);
        event.event_type = "order.received".into();
        counter.reset();
        let started = Instant::now();
        let sent = shared::delivery::fan_out(&store, &queue, &event)
            .await
            .map_err(|e| e.to_string())?;
        times.push(started.elapsed());
        calls = counter.snapshot();
        let queued = queued(&clients.sqs, &url).await? - before;
        let messages = SUBSCRIPTIONS.div_ceil(shared::model::delivery::MAX_DELIVERIES_PER_MESSAGE);
        if sent != SUBSCRIPTIONS || queued != messages {
            return Err(format!(
                "fan-out to {SUBSCRIPTIONS} subscriptions sent {sent} deliveries and the queue gained {queued} messages, not {messages}"
            ));
        }
    }
    let count = |prefix: &str| {
        calls
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    Ok(FanoutResult {
        subscriptions: SUBSCRIPTIONS,
        runs: RUNS,
        enqueue_time: Percentiles::of_durations(&times),
        sqs_calls_per_run: count("sqs:"),
        query_pages_per_run: count("dynamodb:Query"),
        scans: count("dynamodb:Scan"),
        calls_per_run: calls,
        subscription_bytes: bytes,
    })
}

async fn queued(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<usize, String> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    attributes
        .attributes
        .and_then(|a| a.get(&A::ApproximateNumberOfMessages).cloned())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| "the queue did not say how many messages it holds".to_owned())
}
