//! Phase 1, delivery core: the `deliver` handler fed SQS-shaped batches in-process (memory store,
//! memory queue: no emulator), POSTing through the real HTTP sender to loopback receivers in
//! another process that verify every signature.

use crate::measure::{Percentiles, cpu_seconds, round};
use crate::receiver::ReceiverProcess;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde::Serialize;
use shared::adapters::http_sender::HttpSender;
use shared::adapters::memory::{MemoryQueue, MemoryStore};
use shared::adapters::resolver::SystemResolver;
use shared::delivery::{DeliverySettings, Pipeline};
use shared::domain::retry::{DEFAULT_SCHEDULE, RetrySchedule};
use shared::domain::target::TargetPolicy;
use shared::model::delivery::{DeliveryMessage, MAX_DELIVERIES_PER_MESSAGE, Target};
use shared::model::{AccountId, EventId, SubscriptionId};
use shared::model::{Event, SigningSecret, Subscription, now};
use shared::ports::{EventStore, SubscriptionStore};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const BATCH_SIZE: usize = 10;
/// Handler invocations in flight at once (as many warm Lambda instances).
pub const CONCURRENCY: usize = 16;
const ACCOUNT: AccountId = AccountId::from_parts(1_700_000_000_000, 1);

#[derive(Debug, Clone, Serialize)]
pub struct CoreResult {
    pub receiver_urls: usize,
    pub deliveries: usize,
    pub batch_size: usize,
    pub concurrent_invocations: usize,
    pub seconds: f64,
    pub deliveries_per_second: f64,
    /// Time from handing a batch to the handler until it returned, i.e. until every delivery
    /// of the batch had been answered; a bound on each of its deliveries' latency.
    pub per_delivery_latency: Percentiles,
    /// CPU of the bench process (handler, signing, HTTP client, memory store, logging) per
    /// delivery; the receivers run in another process.
    pub our_cpu_us_per_delivery: f64,
    pub receiver_cpu_us_per_delivery: f64,
}

pub type CorePipeline = Pipeline<MemoryStore, MemoryQueue, HttpSender, SystemResolver>;

/// The loopback target policy the local stack runs with (`make dev`).
///
/// # Errors
/// Never for these constant values.
pub fn loopback() -> Result<TargetPolicy, String> {
    TargetPolicy::from_values(Some("true"), Some("127.0.0.0/8"))
}

fn pipeline(store: MemoryStore) -> Result<CorePipeline, String> {
    Ok(Pipeline {
        store,
        queue: MemoryQueue::default(),
        sender: HttpSender::new(loopback()?, Duration::from_secs(5), Duration::from_secs(15))
            .map_err(|e| e.to_string())?,
        resolver: SystemResolver,
        settings: DeliverySettings {
            schedule: RetrySchedule::parse(DEFAULT_SCHEDULE)?,
            targets: loopback()?,
            disable_after: Duration::from_secs(5 * 86_400),
        },
        cache: shared::delivery::SubscriptionCache::default(),
    })
}

/// A subscription to every event type at `url`, signing with `secret`.
#[must_use]
pub fn subscription(
    id: SubscriptionId,
    account: AccountId,
    url: String,
    secret: &str,
) -> Subscription {
    let at = now();
    Subscription {
        id,
        account_id: account,
        url,
        event_types: vec!["*".into()],
        description: None,
        active: true,
        secrets: vec![SigningSecret {
            secret: secret.to_owned(),
            created_at: at,
            expires_at: None,
        }],
        disabled_reason: None,
        verification: None,
        headers: std::collections::BTreeMap::new(),
        created_at: at,
        updated_at: at,
    }
}

/// An event of `account` as the API would create it.
#[must_use]
pub fn event(id: EventId, account: AccountId, n: usize) -> Event {
    Event {
        id,
        account_id: account,
        event_type: "bench.delivered".into(),
        created_at: now(),
        data: serde_json::json!({"n": n, "note": "a payload of a typical size for a webhook"}),
        subscription_id: None,
    }
}

/// SQS-shaped batches of the messages, `BATCH_SIZE` each, as Lambda's poller would hand them over.
fn batches(messages: &[DeliveryMessage], round: &str) -> Vec<SqsEvent> {
    messages
        .chunks(BATCH_SIZE)
        .enumerate()
        .map(|(b, chunk)| {
            let mut event = SqsEvent::default();
            event.records = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let mut record = SqsMessage::default();
                    record.message_id = Some(format!("{round}-{b}-{i}"));
                    record.receipt_handle = Some(format!("rh-{round}-{b}-{i}"));
                    record.body = serde_json::to_string(m).ok();
                    record
                        .attributes
                        .insert("ApproximateReceiveCount".into(), "1".into());
                    record
                })
                .collect();
            event
        })
        .collect()
}

/// Writes `events` events and returns their messages as fan-out makes them: each event to every
/// subscription, up to ten to a message.
async fn messages(
    store: &MemoryStore,
    events: usize,
    subscriptions: &[SubscriptionId],
) -> Result<Vec<DeliveryMessage>, String> {
    let mut messages = Vec::with_capacity(events);
    for n in 0..events {
        let event = event(EventId::new(), ACCOUNT, n);
        store
            .publish(&event, None)
            .await
            .map_err(|e| e.to_string())?;
        for chunk in subscriptions.chunks(MAX_DELIVERIES_PER_MESSAGE) {
            messages.push(DeliveryMessage {
                targets: chunk
                    .iter()
                    .map(|id| Target {
                        subscription_id: *id,
                        version: None,
                    })
                    .collect(),
                ..DeliveryMessage::new(ACCOUNT, event.id, chunk[0], false)
            });
        }
    }
    Ok(messages)
}

/// Runs every batch through the handler, `CONCURRENCY` at a time; returns each batch's time.
async fn drive(
    pipeline: &Arc<CorePipeline>,
    batches: Vec<SqsEvent>,
) -> Result<Vec<Duration>, String> {
    let queue = Arc::new(std::sync::Mutex::new(batches));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (queue, pipeline) = (Arc::clone(&queue), Arc::clone(pipeline));
        workers.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let next = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop();
                let Some(batch) = next else { break };
                let started = Instant::now();
                let event =
                    lambda_runtime::LambdaEvent::new(batch, lambda_runtime::Context::default());
                let response = deliver::handle(&pipeline, event)
                    .await
                    .map_err(|e| e.to_string())?;
                times.push(started.elapsed());
                if !response.batch_item_failures.is_empty() {
                    return Err(format!(
                        "{} deliveries of a batch failed",
                        response.batch_item_failures.len()
                    ));
                }
            }
            Ok::<_, String>(times)
        }));
    }
    let mut times = Vec::new();
    for worker in workers {
        times.extend(worker.await.map_err(|e| e.to_string())??);
    }
    Ok(times)
}

/// Delivers `deliveries` webhooks to `urls` receiver URLs and measures it.
///
/// # Errors
/// A delivery failed or did not arrive verified.
pub async fn run(
    receiver: &ReceiverProcess,
    secret: &str,
    urls: usize,
    deliveries: usize,
) -> Result<CoreResult, String> {
    let pipeline = Arc::new(pipeline(MemoryStore::new())?);
    let store = &pipeline.store;
    let mut subscriptions = Vec::new();
    for url in receiver.urls().into_iter().take(urls) {
        let id = SubscriptionId::new();
        store
            .create_subscription(&subscription(id, ACCOUNT, url, secret))
            .await
            .map_err(|e| e.to_string())?;
        subscriptions.push(id);
    }
    if subscriptions.len() != urls {
        return Err(format!("the receiver has fewer than {urls} ports"));
    }

    // Warm-up: one batch per URL, so connections exist as they would in a warm instance.
    let warm = messages(store, BATCH_SIZE, &subscriptions).await?;
    drive(&pipeline, batches(&warm, "warm")).await?;
    receiver.reset().await?;

    let events = deliveries.div_ceil(urls);
    let measured = messages(store, events, &subscriptions).await?;
    let total: usize = measured.iter().map(|m| m.targets.len()).sum();
    let work = batches(&measured, "measured");
    let me = std::process::id();
    let receiver_pid = receiver.pid().ok_or("the receiver has exited")?;
    let (our_before, receiver_before) = (cpu_seconds(me), cpu_seconds(receiver_pid));
    let started = Instant::now();
    let times = drive(&pipeline, work).await?;
    let seconds = started.elapsed().as_secs_f64();
    let ours = cpu_seconds(me)
        .zip(our_before)
        .map(|(a, b)| a - b)
        .unwrap_or(0.0);
    let theirs = cpu_seconds(receiver_pid)
        .zip(receiver_before)
        .map(|(a, b)| a - b)
        .unwrap_or(0.0);

    let arrivals = receiver.arrivals().await?;
    let verified = arrivals.iter().filter(|a| a.verified).count();
    if arrivals.len() != total || verified != total {
        return Err(format!(
            "{total} deliveries sent, {} arrived, {verified} verified",
            arrivals.len()
        ));
    }
    #[allow(clippy::cast_precision_loss)]
    let per = |cpu: f64| round(cpu / total as f64 * 1e6, 1);
    #[allow(clippy::cast_precision_loss)]
    Ok(CoreResult {
        receiver_urls: urls,
        deliveries: total,
        batch_size: BATCH_SIZE,
        concurrent_invocations: CONCURRENCY,
        seconds: round(seconds, 3),
        deliveries_per_second: round(total as f64 / seconds, 0),
        per_delivery_latency: Percentiles::of_durations(&times),
        our_cpu_us_per_delivery: per(ours),
        receiver_cpu_us_per_delivery: per(theirs),
    })
}
