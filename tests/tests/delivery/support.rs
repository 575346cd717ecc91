//! The world these tests run in: the local stack, the functions behind its bridge, a receiver, and
//! helpers to subscribe and read delivery status.

use crate::common;
use crate::common::api::{FixedDns, call, with_store};
use crate::common::fresh_stack;
use crate::common::receiver::Receiver;
use devstack::bridge::{Bridge, LocalSettings, Mappings};
use devstack::provision::{Clients, Stack};
use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::dynamodb_streams::DynamoStreams;
use shared::adapters::http_sender::HttpSender;
use shared::adapters::resolver::SystemResolver;
use shared::adapters::sqs::SqsQueue;
use shared::api::Api;
use shared::delivery::{DeliverySettings, Pipeline};
use shared::domain::retry::RetrySchedule;
use shared::domain::signature;
use shared::domain::target::TargetPolicy;
use shared::model::{AccountId, EventId, SubscriptionId};
use shared::ports::delivery::DeliveryStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub(crate) const WAIT: Duration = Duration::from_secs(30);

pub(crate) struct World {
    pub(crate) clients: Clients,
    pub(crate) stack: Stack,
    pub(crate) api: Api<DynamoStore, FixedDns, SqsQueue>,
    pub(crate) store: DynamoStore,
    pub(crate) receiver: Receiver,
    /// While above 0, each invocation of `fanout` with a stream batch fails (and counts down),
    /// as when DynamoDB or SQS is out of reach.
    pub(crate) fanout_outage: Arc<AtomicU32>,
    pub(crate) _bridge: Bridge,
}

pub(crate) fn loopback() -> TargetPolicy {
    TargetPolicy::from_values(Some("true"), Some("127.0.0.0/8")).unwrap()
}

/// A fresh stack (3 attempts, 2 s apart), the API on it, and fanout + deliver behind the bridge.
pub(crate) async fn world(test: &str) -> World {
    world_with(test, LocalSettings::default()).await
}

pub(crate) async fn world_with(test: &str, settings: LocalSettings) -> World {
    let schedule = "2s,2s";
    let (clients, stack) = fresh_stack(
        test,
        &[("DeliveryAttempts", "3"), ("RetrySchedule", schedule)],
    )
    .await;
    let data = stack.table("DataTable").unwrap().name.clone();
    let events = stack.table("EventsTable").unwrap().name.clone();
    let store = DynamoStore::new(clients.dynamodb.clone(), data, events);
    let dead_letters = stack.queue("DeliveryDeadLetterQueue").unwrap().url.clone();
    let queue = SqsQueue::new(
        clients.sqs.clone(),
        stack.queue("DeliveryQueue").unwrap().url.clone(),
    )
    .with_dead_letters(dead_letters);
    let mut api = with_store(store.clone(), queue.clone());
    api.targets = loopback();
    let pipeline = Arc::new(Pipeline {
        store: store.clone(),
        queue: queue.clone(),
        sender: HttpSender::new(loopback(), Duration::from_secs(2), Duration::from_secs(3))
            .unwrap(),
        resolver: SystemResolver,
        settings: DeliverySettings {
            schedule: RetrySchedule::parse(schedule).unwrap(),
            targets: loopback(),
            disable_after: Duration::from_secs(3600),
        },
        cache: shared::delivery::SubscriptionCache::default(),
    });
    let (fanout_store, fanout_queue) = (Arc::new(store.clone()), Arc::new(queue));
    let streams = Arc::new(DynamoStreams::new(
        clients.streams.clone(),
        clients.region.clone(),
    ));
    let fanout_outage = Arc::new(AtomicU32::new(0));
    let outage = Arc::clone(&fanout_outage);
    let invoker = devstack::invoke::InProcess::new()
        .with_handler("fanout", move |event: LambdaEvent<Value>| {
            let (store, queue) = (Arc::clone(&fanout_store), Arc::clone(&fanout_queue));
            let streams = Arc::clone(&streams);
            let stream_batch = event.payload["Records"][0]["eventSource"] == "aws:dynamodb";
            let down = stream_batch
                && outage
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            async move {
                if down {
                    return Err("fanout: the store is out of reach".into());
                }
                fanout::handle_any(&*store, &*queue, &*streams, event).await
            }
        })
        .with_handler("deliver", move |event| {
            let pipeline = Arc::clone(&pipeline);
            async move { deliver::handle(&pipeline, event).await }
        });
    let mappings = Mappings::from_stack(&stack, settings).unwrap();
    let bridge = Bridge::start(&clients, mappings, Arc::new(invoker))
        .await
        .unwrap();
    World {
        clients,
        stack,
        api,
        store,
        receiver: Receiver::start().await,
        fanout_outage,
        _bridge: bridge,
    }
}

pub(crate) async fn subscribe(
    world: &World,
    key: &str,
    path: &str,
    event_types: Value,
    active: bool,
) -> (String, String) {
    let body =
        json!({"url": world.receiver.url(path), "event_types": event_types, "active": active});
    let reply = call(&world.api, "POST", "/api/v1/subscriptions", key, Some(body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    (
        reply.body["id"].as_str().unwrap().to_owned(),
        reply.body["secret"].as_str().unwrap().to_owned(),
    )
}

/// The delivery's recorded status, as `deliver` reads it.
pub(crate) async fn status_of(
    store: &DynamoStore,
    account: impl std::fmt::Display,
    event: impl std::fmt::Display,
    subscription: impl std::fmt::Display,
) -> Option<shared::model::delivery::DeliveryStatus> {
    let subscription: shared::model::SubscriptionId = id(subscription);
    store
        .event_deliveries(&[(id(account), id(event))])
        .await
        .unwrap()
        .remove(0)
        .statuses
        .into_iter()
        .find(|s| s.subscription_id == subscription)
}

pub(crate) fn verify(received: &common::receiver::Received, secret: &str) {
    let header = |name: &str| received.headers.get(name).map(String::as_str);
    signature::verify(
        secret,
        header,
        &received.body,
        chrono::Utc::now().timestamp(),
    )
    .unwrap_or_else(|e| panic!("signature of {} does not verify: {e}", received.path));
    assert_eq!(header("content-type"), Some("application/json"));
    assert!(header("user-agent").unwrap().starts_with("rusthook/"));
}

pub(crate) fn body(received: &common::receiver::Received) -> Value {
    serde_json::from_slice(&received.body).unwrap()
}

/// The typed id a text (or another id's text) is.
pub(crate) fn id<T>(text: impl std::fmt::Display) -> T
where
    T: std::str::FromStr,
    T::Err: std::fmt::Debug,
{
    text.to_string().parse().unwrap()
}

pub(crate) async fn account_id(
    api: &Api<DynamoStore, FixedDns, SqsQueue>,
    key: &str,
) -> shared::model::AccountId {
    match api
        .authenticate(Some(&format!("Bearer {key}")))
        .await
        .unwrap()
    {
        shared::api::Caller::Account(id) => id,
        shared::api::Caller::Admin => unreachable!(),
    }
}

/// Fixed ids for the tests that write items directly.
pub(crate) const ACC_LOAD: AccountId = AccountId::from_parts(1_700_000_000_000, 1);
pub(crate) const EVT_LOAD: EventId = EventId::from_parts(1_700_000_000_000, 1);
pub(crate) const ACC_CTX: AccountId = AccountId::from_parts(1_700_000_000_000, 2);
pub(crate) const ACC_OTHER: AccountId = AccountId::from_parts(1_700_000_000_000, 3);
pub(crate) const EVT_CTX: EventId = EventId::from_parts(1_700_000_000_000, 2);
pub(crate) const SUB_CTX: SubscriptionId = SubscriptionId::from_parts(1_700_000_000_000, 2);
