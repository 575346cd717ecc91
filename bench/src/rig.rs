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
use shared::adapters::http_sender::HttpSender;
use shared::adapters::resolver::SystemResolver;
use shared::adapters::sqs::SqsQueue;
use shared::delivery::{DeliverySettings, Pipeline};
use shared::domain::retry::{DEFAULT_SCHEDULE, RetrySchedule};
use shared::model::{AccountId, SubscriptionId};
use shared::ports::SubscriptionStore;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Local SQS pollers on the delivery queue: the five Lambda starts with (it adds more under a
/// backlog), each long-polling 20 s as Lambda's do.
pub const SQS_POLLERS: usize = 5;
pub const SQS_WAIT_SECONDS: i32 = 20;
pub const ACCOUNT: AccountId = AccountId::from_parts(1_700_000_000_000, 2);

/// A running pipeline; dropping it stops the mappings and the receivers.
pub struct Rig {
    pub clients: Clients,
    pub stack: Stack,
    pub receiver: ReceiverProcess,
    pub publisher: Publisher,
    pub counters: Counters,
    /// The bench account's API key.
    pub key: String,
    _bridge: Bridge,
}

impl Rig {
    /// A fresh stack named after `phase` with `subscriptions` receiver URLs, each subscribed to
    /// every event.
    ///
    /// # Errors
    /// The stack, the receivers or the mappings could not be started.
    pub async fn start(phase: &str, subscriptions: usize) -> Result<Self, String> {
        let (clients, stack) = fresh(phase, &[]).await?;
        let url = queue_url(&stack, "DeliveryQueue")?;
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
        for target in receiver.urls() {
            let subscription =
                crate::core::subscription(SubscriptionId::new(), ACCOUNT, target, &secret);
            setup
                .create_subscription(&subscription)
                .await
                .map_err(|e| e.to_string())?;
        }

        let ours = counted(&clients, &counters.functions);
        let store = devstack::samples::store(&ours, &stack)?;
        let queue = SqsQueue::new(ours.sqs.clone(), url);
        let policy = crate::core::loopback()?;
        let pipeline = Arc::new(Pipeline {
            store: store.clone(),
            queue: queue.clone(),
            sender: HttpSender::new(
                policy.clone(),
                Duration::from_secs(5),
                Duration::from_secs(15),
            )
            .map_err(|e| e.to_string())?,
            resolver: SystemResolver,
            settings: DeliverySettings {
                schedule: RetrySchedule::parse(DEFAULT_SCHEDULE)?,
                targets: policy,
                disable_after: Duration::from_secs(5 * 86_400),
            },
            cache: shared::delivery::SubscriptionCache::default(),
        });
        let (fanout_store, fanout_queue) = (Arc::new(store), Arc::new(queue));
        let (fanouts, delivers) = (
            Arc::clone(&counters.invocations),
            Arc::clone(&counters.invocations),
        );
        let invoker = devstack::invoke::InProcess::new()
            .with_handler(
                "fanout",
                move |event: lambda_runtime::LambdaEvent<
                    aws_lambda_events::event::dynamodb::Event,
                >| {
                    let (store, queue) = (Arc::clone(&fanout_store), Arc::clone(&fanout_queue));
                    fanouts.fanout.fetch_add(1, Ordering::SeqCst);
                    fanouts
                        .fanout_records
                        .fetch_add(event.payload.records.len(), Ordering::SeqCst);
                    async move { fanout::handle(&*store, &*queue, event).await }
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
        let mappings = Mappings::from_stack(&stack, settings).map_err(|e| e.to_string())?;
        let bridge = Bridge::start(
            &counted(&clients, &counters.mappings),
            mappings,
            Arc::new(invoker),
        )
        .await
        .map_err(|e| e.to_string())?;
        counters.reset();
        Ok(Self {
            clients,
            stack,
            receiver,
            publisher,
            counters,
            key,
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

/// The deliveries the SQS records carry.
fn targets(records: &[aws_lambda_events::event::sqs::SqsMessage]) -> usize {
    records
        .iter()
        .filter_map(|r| r.body.as_deref())
        .filter_map(|b| serde_json::from_str::<shared::model::delivery::DeliveryMessage>(b).ok())
        .map(|m| m.targets.len())
        .sum()
}
