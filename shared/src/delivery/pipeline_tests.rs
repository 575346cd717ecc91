//! The delivery pipeline on the memory adapter.

#![allow(clippy::unwrap_used)]

use super::{
    Delivery, DeliverySettings, Disposition, Pipeline, SubscriptionCache, deliver, deliver_all,
};
use crate::adapters::memory::{MemoryQueue, MemoryStore, RecordingSender};
use crate::domain::retry::RetrySchedule;
use crate::domain::signature;
use crate::domain::target::TargetPolicy;
use crate::model::delivery::{DeliveryMessage, DeliveryState, DeliveryStatus};
use crate::model::{AccountId, Event, EventId, SigningSecret, Subscription, SubscriptionId, now};
use crate::ports::delivery::DeliveryStore;
use crate::ports::resolver::Resolver;
use crate::ports::{EventStore, SubscriptionStore};
use std::time::Duration;

pub(super) const ACC_1: AccountId = AccountId::from_parts(1_700_000_000_000, 1);
pub(super) const SUB_1: SubscriptionId = SubscriptionId::from_parts(1_700_000_000_000, 1);
const SUB_2: SubscriptionId = SubscriptionId::from_parts(1_700_000_000_000, 2);
const EVT_1: EventId = EventId::from_parts(1_700_000_000_000, 1);
const EVT_9: EventId = EventId::from_parts(1_700_000_000_000, 9);

pub(super) struct NoDns;
impl Resolver for NoDns {
    async fn resolve(&self, _host: &str, _port: u16) -> Vec<std::net::IpAddr> {
        vec!["93.184.215.14".parse().unwrap()]
    }
}

pub(super) async fn setup(
    status: u16,
    disable_after: Duration,
    active: bool,
) -> (
    Pipeline<MemoryStore, MemoryQueue, RecordingSender, NoDns>,
    DeliveryMessage,
) {
    let store = MemoryStore::new();
    let subscription = Subscription {
        id: SUB_1,
        account_id: ACC_1,
        url: "https://hooks.example.com/in".into(),
        event_types: vec!["*".into()],
        description: None,
        active,
        secrets: vec![SigningSecret {
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            created_at: now(),
            expires_at: None,
        }],
        disabled_reason: None,
        verification: None,
        headers: std::collections::BTreeMap::new(),
        created_at: now(),
        updated_at: now(),
    };
    store.create_subscription(&subscription).await.unwrap();
    let event = Event {
        id: EVT_1,
        account_id: ACC_1,
        event_type: "order.received".into(),
        created_at: now(),
        data: serde_json::json!({"n": 1}),
        subscription_id: None,
    };
    store.publish(&event, None).await.unwrap();
    let message = DeliveryMessage::new(ACC_1, EVT_1, SUB_1, false);
    let pipeline = Pipeline {
        store,
        queue: MemoryQueue::default(),
        sender: RecordingSender::answering(status),
        resolver: NoDns,
        settings: DeliverySettings {
            schedule: RetrySchedule::parse("1s,1s").unwrap(),
            targets: TargetPolicy::default(),
            disable_after,
        },
        cache: SubscriptionCache::default(),
    };
    (pipeline, message)
}

/// The delivery's recorded status, as `deliver` reads it.
async fn status_of(
    store: &MemoryStore,
    account: &AccountId,
    event: &EventId,
    subscription: &SubscriptionId,
) -> Option<DeliveryStatus> {
    store
        .event_deliveries(&[(*account, *event)])
        .await
        .unwrap()
        .remove(0)
        .statuses
        .into_iter()
        .find(|s| s.subscription_id == *subscription)
}

async fn run(
    p: &Pipeline<MemoryStore, MemoryQueue, RecordingSender, NoDns>,
    m: &DeliveryMessage,
    attempt: u32,
) -> Disposition {
    deliver(
        &p.store,
        &p.sender,
        &p.resolver,
        &p.settings,
        m,
        attempt,
        0.0,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn success_is_done_and_a_duplicate_is_not_sent_again() {
    let (p, m) = setup(204, Duration::from_secs(3600), true).await;
    assert_eq!(run(&p, &m, 1).await, Disposition::Done);
    assert_eq!(run(&p, &m, 1).await, Disposition::Done);
    assert_eq!(
        p.sender.requests.lock().unwrap().len(),
        1,
        "a re-fanned-out delivery is not sent twice"
    );
    let forced = DeliveryMessage {
        force: true,
        continuation: None,
        ..m.clone()
    };
    run(&p, &forced, 1).await;
    assert_eq!(p.sender.requests.lock().unwrap().len(), 2, "a resend is");
}

#[tokio::test]
async fn failures_back_off_then_exhaust() {
    let (p, m) = setup(500, Duration::from_secs(3600), true).await;
    assert_eq!(
        run(&p, &m, 1).await,
        Disposition::RetryAfter(Duration::from_secs(1))
    );
    assert_eq!(
        run(&p, &m, 2).await,
        Disposition::RetryAfter(Duration::from_secs(1))
    );
    assert_eq!(
        run(&p, &m, 3).await,
        Disposition::DeadLetter,
        "exhausted: onto the DLQ"
    );
    let status = status_of(&p.store, &ACC_1, &EVT_1, &SUB_1).await.unwrap();
    assert_eq!((status.status, status.attempts), (DeliveryState::Failed, 3));
    let sub = p
        .store
        .get_subscription(&ACC_1, &SUB_1)
        .await
        .unwrap()
        .unwrap();
    assert!(sub.active, "one hour has not passed");
}

#[tokio::test]
async fn failing_longer_than_the_window_disables_the_subscription() {
    let (p, m) = setup(500, Duration::ZERO, true).await;
    run(&p, &m, 1).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    run(&p, &m, 2).await;
    let sub = p
        .store
        .get_subscription(&ACC_1, &SUB_1)
        .await
        .unwrap()
        .unwrap();
    assert!(!sub.active);
    let reason = sub.disabled_reason.unwrap();
    assert!(reason.contains("failed since"));
    let told: Vec<_> = p
        .store
        .events()
        .into_iter()
        .filter(|e| e.event_type == "subscription.disabled")
        .collect();
    assert_eq!(told.len(), 1, "its operational event, once");
    assert_eq!(told[0].data["subscription_id"], SUB_1.to_string());
    assert_eq!(told[0].data["reason"], reason.as_str());
    assert_eq!(told[0].data["url"], sub.url.as_str());
}

#[tokio::test]
async fn a_success_resets_the_failing_window() {
    let (p, m) = setup(500, Duration::from_secs(3600), true).await;
    run(&p, &m, 1).await;
    let read = p
        .store
        .delivery_subscriptions(&[(ACC_1, SUB_1)])
        .await
        .unwrap();
    assert!(read[0].failing);
    let recovered = RecordingSender::answering(200);
    let outcome = deliver(&p.store, &recovered, &p.resolver, &p.settings, &m, 2, 0.0);
    assert_eq!(outcome.await.unwrap(), Disposition::Done);
    let later = crate::model::Timestamp::parse("2030-01-01T00:00:00.000Z").unwrap();
    assert_eq!(
        p.store
            .mark_failing(&ACC_1, &SUB_1, &later, Duration::from_secs(3600))
            .await
            .unwrap(),
        later
    );
}

#[tokio::test]
async fn inactive_subscriptions_are_skipped_without_a_request() {
    let (p, m) = setup(200, Duration::from_secs(3600), false).await;
    assert_eq!(run(&p, &m, 1).await, Disposition::Done);
    assert!(p.sender.requests.lock().unwrap().is_empty());
    let status = status_of(&p.store, &ACC_1, &EVT_1, &SUB_1).await.unwrap();
    assert_eq!(status.status, DeliveryState::Skipped);
}

#[tokio::test]
async fn a_batch_skips_passes_over_and_sends_each_delivery_on_its_own_terms() {
    let (p, m) = setup(200, Duration::from_secs(3600), true).await;
    let mut inactive = p
        .store
        .get_subscription(&ACC_1, &SUB_1)
        .await
        .unwrap()
        .unwrap();
    inactive.id = SUB_2;
    inactive.active = false;
    p.store.create_subscription(&inactive).await.unwrap();
    let skipped = DeliveryMessage::new(ACC_1, EVT_1, SUB_2, false);
    let missing_event = DeliveryMessage::new(ACC_1, EVT_9, SUB_1, false);
    // The first delivery of m succeeds; in the batch, m again is passed over.
    assert_eq!(run(&p, &m, 1).await, Disposition::Done);
    let batch = [&m, &skipped, &missing_event, &m];
    let deliveries: Vec<Delivery<'_>> = batch
        .iter()
        .map(|message| Delivery {
            message,
            target: message.targets[0],
            attempt: 1,
            jitter: 0.0,
        })
        .collect();
    let outcomes = deliver_all(
        &p.store,
        &p.sender,
        &p.resolver,
        &p.settings,
        &p.cache,
        &deliveries,
    )
    .await;
    assert!(outcomes.iter().all(|o| matches!(o, Ok(Disposition::Done))));
    assert_eq!(
        p.sender.requests.lock().unwrap().len(),
        1,
        "only the first run sent"
    );
    for (event, subscription) in [(&EVT_1, &SUB_2), (&EVT_9, &SUB_1)] {
        let status = status_of(&p.store, &ACC_1, event, subscription)
            .await
            .unwrap();
        assert_eq!(status.status, DeliveryState::Skipped);
    }
}

#[tokio::test]
async fn requests_carry_standard_webhooks_headers() {
    let (p, m) = setup(200, Duration::from_secs(3600), true).await;
    run(&p, &m, 1).await;
    let request = p.sender.requests.lock().unwrap()[0].clone();
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("webhook-id"), Some(EVT_1.to_string().as_str()));
    assert_eq!(header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["type"], "order.received");
    assert_eq!(body["data"], serde_json::json!({"n": 1}));
    let ts: i64 = header("webhook-timestamp").unwrap().parse().unwrap();
    signature::verify(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        header,
        &request.body,
        ts,
    )
    .unwrap();
}
