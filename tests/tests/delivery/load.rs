//! Volume and crashes: 1,000 events to 10 subscriptions, one event to 1,000 subscriptions, a crash
//! mid-batch; nothing lost.

use crate::common::api::{account, call, with_store};
use crate::common::receiver::Receiver;
use crate::common::{eventually, fresh_stack};
use crate::support::*;
use devstack::bridge::{Bridge, LocalSettings, Mappings};
use serde_json::json;
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::http_sender::HttpSender;
use shared::adapters::resolver::SystemResolver;
use shared::adapters::sqs::SqsQueue;
use shared::delivery::{DeliverySettings, Pipeline};
use shared::domain::retry::RetrySchedule;
use shared::ports::delivery::DeliveryStore;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load_1000_events_to_10_subscriptions_loses_nothing() {
    let world = world_with(
        "e2e-load",
        LocalSettings {
            sqs_pollers: 6,
            ..LocalSettings::default()
        },
    )
    .await;
    let key = account(&world.api, "acme").await;
    let mut paths = Vec::new();
    for i in 0..10 {
        let path = format!("/load{i}");
        subscribe(&world, &key, &path, json!(["*"]), true).await;
        paths.push(path);
    }
    let started = std::time::Instant::now();
    let mut event_ids = std::collections::HashSet::new();
    for i in 0..1000 {
        let reply = call(
            &world.api,
            "POST",
            "/api/v1/events",
            &key,
            Some(json!({"type": "load.tested", "payload": {"i": i}})),
        )
        .await;
        assert_eq!(reply.status, 202);
        event_ids.insert(reply.body["id"].as_str().unwrap().to_owned());
    }
    let published = started.elapsed();
    // Wait for 10,000 distinct (event, subscription) pairs, not 10,000 requests: at-least-once
    // delivery may repeat some, and a repeat must not stand in for a delivery still to come.
    eventually("10,000 deliveries", Duration::from_secs(900), || async {
        let distinct: std::collections::HashSet<_> = world
            .receiver
            .all()
            .into_iter()
            .map(|r| (r.headers["webhook-id"].clone(), r.path))
            .collect();
        (distinct.len() >= 10_000).then_some(())
    })
    .await;
    let delivered = started.elapsed();
    let received = world.receiver.all();
    let mut pairs = std::collections::HashMap::new();
    for r in &received {
        let id = r.headers["webhook-id"].clone();
        assert!(
            event_ids.contains(&id),
            "a delivery of an unknown event {id}"
        );
        *pairs.entry((id, r.path.clone())).or_insert(0u32) += 1;
    }
    assert_eq!(
        pairs.len(),
        10_000,
        "every event reached every subscription"
    );
    let duplicates = received.len() - pairs.len();
    println!(
        "load: published 1000 events in {published:?}; 10,000 deliveries received after {delivered:?}; {duplicates} duplicates (each of an id already seen)"
    );
}

/// Not a timed test: it checks the fan-out of one event to 1,000 subscriptions is complete and
/// prints how long it took (see the note on the fan-out issue for the figure).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_event_fans_out_to_1000_subscriptions() {
    let (clients, stack) = fresh_stack("fanout-1000", &[]).await;
    let data = stack.table("DataTable").unwrap().name.clone();
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        data,
        stack.table("EventsTable").unwrap().name.clone(),
    );
    let queue_url = stack.queue("DeliveryQueue").unwrap().url.clone();
    let queue = SqsQueue::new(clients.sqs.clone(), queue_url.clone());
    for i in 0..1000 {
        let at = shared::model::now();
        let subscription = shared::model::Subscription {
            id: shared::model::SubscriptionId::new(),
            account_id: ACC_LOAD,
            url: "https://hooks.example.com/".into(),
            event_types: vec![if i % 2 == 0 {
                "*".into()
            } else {
                "order.*".into()
            }],
            description: None,
            active: true,
            secrets: vec![],
            disabled_reason: None,
            verification: None,
            headers: std::collections::BTreeMap::new(),
            created_at: at,
            updated_at: at,
        };
        shared::ports::SubscriptionStore::create_subscription(&store, &subscription)
            .await
            .unwrap();
    }
    let event = shared::model::Event {
        id: EVT_LOAD,
        account_id: ACC_LOAD,
        event_type: "order.received".into(),
        created_at: shared::model::now(),
        data: json!({}),
        subscription_id: None,
    };
    let query_started = std::time::Instant::now();
    let found = store
        .matching_subscriptions(&ACC_LOAD, "order.received")
        .await
        .unwrap();
    println!(
        "fanout: the matching Query alone took {:?} for {}",
        query_started.elapsed(),
        found.len()
    );
    let started = std::time::Instant::now();
    let count = shared::delivery::fan_out(&store, &queue, &event)
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(count, 1000);
    let attributes = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let queued = &attributes.attributes.unwrap()
        [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages];
    assert_eq!(
        queued, "100",
        "ten deliveries to a message: 100 messages in 10 SendMessageBatch calls"
    );
    println!(
        "fanout: 1 event to 1000 subscriptions enqueued in {took:?} (1 Query page per MB, 10 SendMessageBatch calls)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_mid_batch_redelivers_only_what_was_not_delivered() {
    // A short visibility timeout so the crashed batch comes back within the test.
    let (clients, stack) = fresh_stack(
        "e2e-crash",
        &[
            ("DeliveryAttempts", "3"),
            ("RetrySchedule", "2s,2s"),
            ("DeliveryVisibilityTimeout", "2"),
        ],
    )
    .await;
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        stack.table("DataTable").unwrap().name.clone(),
        stack.table("EventsTable").unwrap().name.clone(),
    );
    let queue = SqsQueue::new(
        clients.sqs.clone(),
        stack.queue("DeliveryQueue").unwrap().url.clone(),
    );
    let mut api = with_store(store.clone(), queue.clone());
    api.targets = loopback();
    let pipeline = Arc::new(Pipeline {
        store: store.clone(),
        queue: queue.clone(),
        sender: HttpSender::new(loopback(), Duration::from_secs(2), Duration::from_secs(3))
            .unwrap(),
        resolver: SystemResolver,
        settings: DeliverySettings {
            schedule: RetrySchedule::parse("2s,2s").unwrap(),
            targets: loopback(),
            disable_after: Duration::from_secs(3600),
        },
        cache: shared::delivery::SubscriptionCache::default(),
    });
    let crashed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let did_crash = Arc::clone(&crashed);
    let (fanout_store, fanout_queue) = (Arc::new(store.clone()), Arc::new(queue));
    let invoker = devstack::invoke::InProcess::new()
        .with_handler("fanout", move |event| {
            let (store, queue) = (Arc::clone(&fanout_store), Arc::clone(&fanout_queue));
            async move { fanout::handle(&*store, &*queue, event).await }
        })
        .with_handler(
            "deliver",
            move |event: lambda_runtime::LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
                let (pipeline, crashed) = (Arc::clone(&pipeline), Arc::clone(&crashed));
                async move {
                    let records = &event.payload.records;
                    if !crashed.swap(true, std::sync::atomic::Ordering::SeqCst) {
                        // Deliver the first half of the message's deliveries, then die before
                        // answering.
                        let mut half = records[0].clone();
                        let mut message: shared::model::delivery::DeliveryMessage =
                            serde_json::from_str(half.body.as_deref().unwrap()).unwrap();
                        assert_eq!(message.targets.len(), 4, "one message for the event");
                        message.targets.truncate(2);
                        half.body = Some(serde_json::to_string(&message).unwrap());
                        deliver::deliver_records(&pipeline, &[half], std::time::SystemTime::now())
                            .await;
                        return Err::<aws_lambda_events::event::sqs::SqsBatchResponse, _>(
                            lambda_runtime::Error::from("crashed mid-batch"),
                        );
                    }
                    deliver::handle(&pipeline, event).await
                }
            },
        );
    let mappings = Mappings::from_stack(
        &stack,
        LocalSettings {
            sqs_pollers: 1,
            ..LocalSettings::default()
        },
    )
    .unwrap();
    let _bridge = Bridge::start(&clients, mappings, Arc::new(invoker))
        .await
        .unwrap();
    let receiver = Receiver::start().await;
    let key = account(&api, "acme").await;
    for i in 0..4 {
        let body = json!({"url": receiver.url(&format!("/crash{i}")), "event_types": ["*"]});
        assert_eq!(
            call(&api, "POST", "/api/v1/subscriptions", &key, Some(body))
                .await
                .status,
            201
        );
    }
    call(
        &api,
        "POST",
        "/api/v1/events",
        &key,
        Some(json!({"type": "order.received", "payload": {}})),
    )
    .await;
    eventually("every subscription reached", WAIT, || async {
        (0..4)
            .all(|i| !receiver.received(&format!("/crash{i}")).is_empty())
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await; // a second redelivery would show by now
    assert!(
        did_crash.load(std::sync::atomic::Ordering::SeqCst),
        "the crash happened"
    );
    for i in 0..4 {
        assert_eq!(
            receiver.received(&format!("/crash{i}")).len(),
            1,
            "subscription {i} got exactly one delivery"
        );
    }
}
