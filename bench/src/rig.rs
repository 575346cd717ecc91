//! The local stack wired as Lambda would run it, for the end-to-end phase and the soak: a fresh
//! stack, receivers in their own process that verify every signature, one subscription per
//! receiver URL, `fanout` and `deliver` in this process behind devstack's event source mappings,
//! and a publisher that writes events through the API. Every AWS call is counted.

use crate::measure::{CpuWindow, pid_from_file};
use crate::meter::{Counters, Invocations};
use crate::publisher::Publisher;
use crate::receiver::ReceiverProcess;
use crate::stack::{CallCounter, counted, fresh, queue_url};
use devstack::bridge::{Bridge, LocalSettings, Mappings};
use devstack::provision::{Clients, Stack};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::dynamodb_streams::DynamoStreams;
use shared::adapters::http_sender::HttpSender;
use shared::adapters::resolver::SystemResolver;
use shared::adapters::sqs::SqsQueue;
use shared::delivery::{DeliverySettings, Pipeline};
use shared::domain::retry::{DEFAULT_SCHEDULE, RetrySchedule};
use shared::model::{AccountId, SubscriptionId};
use shared::ports::SubscriptionStore;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

/// Local SQS pollers on the delivery queue: the five Lambda starts with (it adds more under a
/// backlog), each long-polling 20 s as Lambda's do.
pub const SQS_POLLERS: usize = 5;
pub const SQS_WAIT_SECONDS: i32 = 20;
pub const ACCOUNT: AccountId = AccountId::from_parts(1_700_000_000_000, 2);

/// How the pipeline is set up beyond the template's defaults.
#[derive(Debug, Clone)]
pub struct RigOptions {
    /// Template parameters (e.g. `DeliveryAttempts`, `DeliveryVisibilityTimeout`).
    pub parameters: Vec<(&'static str, String)>,
    /// `deliver`'s retry schedule (its `DeliveryAttempts` is one more than its entries).
    pub schedule: String,
    /// How long `deliver` waits for a receiver's answer.
    pub request_timeout: Duration,
}

impl Default for RigOptions {
    fn default() -> Self {
        Self {
            parameters: Vec::new(),
            schedule: DEFAULT_SCHEDULE.to_owned(),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// A running pipeline; dropping it stops the mappings and the receivers.
pub struct Rig {
    pub clients: Clients,
    pub stack: Stack,
    pub receiver: ReceiverProcess,
    pub publisher: Publisher,
    pub counters: Counters,
    /// The bench account's API key.
    pub key: String,
    /// The stack's tables, uncounted (for checks).
    pub store: DynamoStore,
    /// The delivery queue with its dead-letter queue, uncounted (for redrives).
    pub queue: SqsQueue,
    /// One subscription per receiver URL, in the order of [`ReceiverProcess::urls`].
    pub subscriptions: Vec<SubscriptionId>,
    /// Of every 1,000 `deliver` invocations, how many are killed at a random point (0: none).
    pub kill_per_mille: Arc<AtomicU32>,
    /// `deliver` invocations killed so far.
    pub killed: Arc<AtomicUsize>,
    /// `fanout` invocations with messages of its failure queue (stream batches it gave up on).
    pub refanned: Arc<AtomicUsize>,
    _bridge: Bridge,
}

impl Rig {
    /// A fresh stack named after `phase` with `subscriptions` receiver URLs, each subscribed to
    /// every event.
    ///
    /// # Errors
    /// The stack, the receivers or the mappings could not be started.
    pub async fn start(phase: &str, subscriptions: usize) -> Result<Self, String> {
        Self::with(phase, subscriptions, &RigOptions::default()).await
    }

    /// As [`Rig::start`], set up as `options` says.
    ///
    /// # Errors
    /// As [`Rig::start`].
    pub async fn with(
        phase: &str,
        subscriptions: usize,
        options: &RigOptions,
    ) -> Result<Self, String> {
        let parameters: Vec<(&str, &str)> = options
            .parameters
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let (clients, stack) = fresh(phase, &parameters).await?;
        let url = queue_url(&stack, "DeliveryQueue")?;
        let dead_letters = queue_url(&stack, "DeliveryDeadLetterQueue")?;
        let secret = crate::measure::signing_secret();
        let receiver = ReceiverProcess::start(subscriptions, &secret).await?;

        let setup = devstack::samples::store(&clients, &stack)?;
        let counters = Counters {
            functions: CallCounter::default(),
            mappings: CallCounter::default(),
            api: CallCounter::default(),
            invocations: Arc::new(Invocations::default()),
        };
        let key = crate::publisher::bench_key(&clients, &stack, ACCOUNT).await?;
        let publisher = Publisher::new(&counted(&clients, &counters.api), &stack, ACCOUNT, &key)?;
        let mut ids = Vec::new();
        for target in receiver.urls() {
            let subscription =
                crate::core::subscription(SubscriptionId::new(), ACCOUNT, target, &secret);
            setup
                .create_subscription(&subscription)
                .await
                .map_err(|e| e.to_string())?;
            ids.push(subscription.id);
        }

        let ours = counted(&clients, &counters.functions);
        let store = devstack::samples::store(&ours, &stack)?;
        let queue = SqsQueue::new(ours.sqs.clone(), url.clone()).with_dead_letters(&dead_letters);
        let policy = crate::core::loopback()?;
        let pipeline = Arc::new(Pipeline {
            store: store.clone(),
            queue: queue.clone(),
            sender: HttpSender::new(
                policy.clone(),
                Duration::from_secs(5),
                options.request_timeout,
            )
            .map_err(|e| e.to_string())?,
            resolver: SystemResolver,
            settings: DeliverySettings {
                schedule: RetrySchedule::parse(&options.schedule)?,
                targets: policy,
                disable_after: Duration::from_secs(5 * 86_400),
            },
            cache: shared::delivery::SubscriptionCache::default(),
        });
        let (fanout_store, fanout_queue) = (Arc::new(store), Arc::new(queue));
        let streams = Arc::new(DynamoStreams::new(
            ours.streams.clone(),
            ours.region.clone(),
        ));
        let (fanouts, delivers) = (
            Arc::clone(&counters.invocations),
            Arc::clone(&counters.invocations),
        );
        let refanned = Arc::new(AtomicUsize::new(0));
        let refans = Arc::clone(&refanned);
        let kill_per_mille = Arc::new(AtomicU32::new(0));
        let kills = Arc::clone(&kill_per_mille);
        let invoker = devstack::invoke::InProcess::new()
            .with_kills("deliver", move || kill_after(kills.load(Ordering::Relaxed)))
            .with_handler(
                "fanout",
                move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
                    let (store, queue) = (Arc::clone(&fanout_store), Arc::clone(&fanout_queue));
                    let streams = Arc::clone(&streams);
                    fanouts.fanout.fetch_add(1, Ordering::SeqCst);
                    let records = event.payload["Records"].as_array().map_or(0, Vec::len);
                    fanouts.fanout_records.fetch_add(records, Ordering::SeqCst);
                    if event.payload["Records"][0]["eventSource"] == "aws:sqs" {
                        refans.fetch_add(1, Ordering::SeqCst);
                    }
                    async move { fanout::handle_any(&*store, &*queue, &*streams, event).await }
                },
            )
            .with_handler(
                "deliver",
                move |event: lambda_runtime::LambdaEvent<
                    aws_lambda_events::event::sqs::SqsEvent,
                >| {
                    let pipeline = Arc::clone(&pipeline);
                    let records = &event.payload.records;
                    delivers.deliver.fetch_add(1, Ordering::SeqCst);
                    delivers
                        .deliver_messages
                        .fetch_add(records.len(), Ordering::SeqCst);
                    delivers
                        .deliver_deliveries
                        .fetch_add(targets(records), Ordering::SeqCst);
                    async move { deliver::handle(&pipeline, event).await }
                },
            );
        let settings = LocalSettings {
            sqs_pollers: SQS_POLLERS,
            sqs_wait_seconds: SQS_WAIT_SECONDS,
            ..LocalSettings::default()
        };
        let killed = invoker.killed();
        let mappings = Mappings::from_stack(&stack, settings).map_err(|e| e.to_string())?;
        let bridge = Bridge::start(
            &counted(&clients, &counters.mappings),
            mappings,
            Arc::new(invoker),
        )
        .await
        .map_err(|e| e.to_string())?;
        counters.reset();
        let checks = SqsQueue::new(clients.sqs.clone(), url).with_dead_letters(dead_letters);
        Ok(Self {
            clients,
            stack,
            receiver,
            publisher,
            counters,
            key,
            queue: checks,
            store: setup,
            subscriptions: ids,
            kill_per_mille,
            killed,
            refanned,
            _bridge: bridge,
        })
    }

    /// The processes that do the work, by name: the two emulators (from `stack_state`'s pid
    /// files), this process, the receivers.
    #[must_use]
    pub fn processes(&self, stack_state: &Path) -> Vec<(&'static str, Option<u32>)> {
        vec![
            (
                "DynamoDB Local (java)",
                pid_from_file(&stack_state.join("dynamodb.pid")),
            ),
            (
                "SQS emulator (moto, python)",
                pid_from_file(&stack_state.join("sqs.pid")),
            ),
            (
                "bench: bridge + fanout + deliver + event writer",
                Some(std::process::id()),
            ),
            ("receivers", self.receiver.pid()),
        ]
    }

    /// Starts counting the CPU of [`Rig::processes`].
    #[must_use]
    pub fn cpu(&self, stack_state: &Path) -> CpuWindow {
        CpuWindow::start(&self.processes(stack_state))
    }
}

/// Whether to kill this invocation (`per_mille` of 1,000) and after how long: 0 to 150 ms, so
/// anywhere from before the first webhook to after the last write.
fn kill_after(per_mille: u32) -> Option<Duration> {
    if per_mille == 0 {
        return None;
    }
    let mut bytes = [0u8; 4];
    shared::domain::secrets::fill_random(&mut bytes);
    let draw = u32::from_le_bytes(bytes);
    (draw % 1000 < per_mille).then(|| Duration::from_millis(u64::from(draw / 1000 % 150)))
}

/// The deliveries the SQS records carry.
fn targets(records: &[aws_lambda_events::event::sqs::SqsMessage]) -> usize {
    records
        .iter()
        .filter_map(|r| r.body.as_deref())
        .filter_map(|b| serde_json::from_str::<shared::model::delivery::DeliveryMessage>(b).ok())
        .map(|m| m.targets.len())
        .sum()
}
