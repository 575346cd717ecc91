//! Messages with several deliveries: each delivery keeps its own attempts and retries, what was
//! delivered is never sent twice, and the warm cache never uses a subscription older than the
//! message names.

#![allow(clippy::unwrap_used)]

use super::Pipeline;
use super::pipeline_tests::{ACC_1, NoDns, SUB_1, setup};
use crate::adapters::memory::{MemoryQueue, MemoryStore, RecordingSender};
use crate::model::delivery::{DeliveryMessage, DeliveryState};
use crate::model::{Subscription, SubscriptionId, Timestamp};
use crate::ports::delivery::{DeliveryStore, QueuedMessage};
use crate::ports::{EventStore, SubscriptionStore};
use std::time::{Duration, SystemTime};

type TestPipeline = Pipeline<MemoryStore, MemoryQueue, RecordingSender, NoDns>;

const SUB_2: SubscriptionId = SubscriptionId::from_parts(1_700_000_000_000, 22);
const SUB_3: SubscriptionId = SubscriptionId::from_parts(1_700_000_000_000, 23);

fn url(n: u8) -> String {
    format!("https://hooks{n}.example.com/in")
}

/// A pipeline whose event goes to three subscriptions in one message: the first answers 200,
/// the second 500, the third 410.
async fn three() -> (TestPipeline, DeliveryMessage) {
    let (mut p, m) = setup(200, Duration::from_secs(3600), true).await;
    let first = p
        .store
        .get_subscription(&ACC_1, &SUB_1)
        .await
        .unwrap()
        .unwrap();
    let mut subscriptions = vec![first.clone()];
    for (id, n) in [(SUB_2, 2), (SUB_3, 3)] {
        let other = Subscription {
            id,
            url: url(n),
            ..first.clone()
        };
        p.store.create_subscription(&other).await.unwrap();
        subscriptions.push(other);
    }
    p.sender.by_url = vec![(url(2), 500), (url(3), 410)];
    let event = p
        .store
        .get_event(&ACC_1, &m.event_id)
        .await
        .unwrap()
        .unwrap();
    let mut messages = DeliveryMessage::for_subscriptions(&event, &subscriptions, false);
    assert_eq!(messages.len(), 1);
    (p, messages.remove(0))
}

fn queued(message: &DeliveryMessage, receives: u32) -> QueuedMessage {
    QueuedMessage {
        id: Some("m-1".into()),
        body: Some(serde_json::to_string(message).unwrap()),
        receipt_handle: Some("rh-1".into()),
        first_receive: Some(SystemTime::now()),
        receive_count: receives,
    }
}

async fn batch(p: &TestPipeline, message: &DeliveryMessage, receives: u32) -> Vec<bool> {
    p.deliver_batch(&[queued(message, receives)], SystemTime::now())
        .await
}

#[tokio::test]
async fn each_delivery_of_a_message_settles_on_its_own() {
    let (p, m) = three().await;
    assert_eq!(
        batch(&p, &m, 1).await,
        [false],
        "the message itself is done"
    );
    assert_eq!(p.sender.requests.lock().unwrap().len(), 3);
    let statuses = p
        .store
        .deliveries_of_event(&ACC_1, &m.event_id)
        .await
        .unwrap();
    let state = |id: SubscriptionId| {
        statuses
            .iter()
            .find(|s| s.subscription_id == id)
            .map(|s| (s.status, s.attempts))
    };
    assert_eq!(state(SUB_1), Some((DeliveryState::Delivered, 1)));
    assert_eq!(state(SUB_2), Some((DeliveryState::Retrying, 1)));
    assert_eq!(state(SUB_3), Some((DeliveryState::Failed, 1)));
    // The failed one goes on alone, carrying its attempt; the gone one is disabled.
    let later = p.queue.later.lock().unwrap().clone();
    assert_eq!(later.len(), 1);
    let (retry, delay) = &later[0];
    assert_eq!(retry.targets.len(), 1);
    assert_eq!(retry.targets[0].subscription_id, SUB_2);
    assert_eq!(retry.continuation.map(|c| c.attempts), Some(1));
    assert!(
        (Duration::from_millis(800)..=Duration::from_millis(1200)).contains(delay),
        "the schedule's first wait, ± 20 %: {delay:?}"
    );
    assert!(p.queue.dead_letters.lock().unwrap().is_empty());
    let gone = p
        .store
        .get_subscription(&ACC_1, &SUB_3)
        .await
        .unwrap()
        .unwrap();
    assert!(!gone.active);
    // Its attempt log keeps the failure's excerpt, not the success's.
    let log = |id| p.store.attempts_of_subscription(&ACC_1, id, 10, None);
    let ok = log(&SUB_1).await.unwrap().items;
    assert_eq!(
        (ok[0].status_code, ok[0].response_body.as_deref()),
        (Some(200), None)
    );
    let failed = log(&SUB_2).await.unwrap().items;
    assert_eq!(failed[0].response_body.as_deref(), Some("answered 500"));

    // The continuation is the second attempt of that delivery only.
    p.sender.requests.lock().unwrap().clear();
    let mut retry = retry.clone();
    retry.continuation = retry
        .continuation
        .map(|c| crate::model::delivery::Continuation { due_at_ms: 0, ..c });
    batch(&p, &retry, 1).await;
    let sent = p.sender.requests.lock().unwrap().clone();
    assert_eq!(
        sent.iter().map(|r| r.url.clone()).collect::<Vec<_>>(),
        [url(2)]
    );
    let log = log(&SUB_2).await.unwrap().items;
    assert_eq!(log.iter().map(|a| a.attempt).collect::<Vec<_>>(), [2, 1]);
}

#[tokio::test]
async fn a_message_received_again_sends_only_what_was_not_delivered() {
    let (mut p, m) = three().await;
    p.sender.by_url.clear();
    // Two of its three deliveries were made before the function died.
    let first_two = DeliveryMessage {
        targets: m.targets[..2].to_vec(),
        ..m.clone()
    };
    batch(&p, &first_two, 1).await;
    p.sender.requests.lock().unwrap().clear();
    assert_eq!(batch(&p, &m, 2).await, [false]);
    let sent = p.sender.requests.lock().unwrap().clone();
    assert_eq!(
        sent.iter().map(|r| r.url.clone()).collect::<Vec<_>>(),
        [url(3)]
    );
}

#[tokio::test]
async fn the_cache_never_uses_a_subscription_older_than_the_message_names() {
    let (p, m) = setup(200, Duration::from_secs(3600), true).await;
    let event = p
        .store
        .get_event(&ACC_1, &m.event_id)
        .await
        .unwrap()
        .unwrap();
    let read = p
        .store
        .get_subscription(&ACC_1, &SUB_1)
        .await
        .unwrap()
        .unwrap();
    let message = |s: &Subscription| {
        DeliveryMessage::for_subscriptions(&event, std::slice::from_ref(s), true).remove(0)
    };
    batch(&p, &message(&read), 1).await;
    // The URL changes in the store without a new version: a copy read within the max age is
    // still used for a message that names the version it has.
    let mut moved = read.clone();
    moved.url = url(7);
    p.store
        .update_subscription(&moved, &read.updated_at)
        .await
        .unwrap();
    batch(&p, &message(&read), 1).await;
    // A message naming a newer version makes `deliver` read the subscription again.
    moved.updated_at = Timestamp::from_unix_millis(read.updated_at.unix_millis() + 1).unwrap();
    p.store
        .update_subscription(&moved, &read.updated_at)
        .await
        .unwrap();
    batch(&p, &message(&moved), 1).await;
    let urls: Vec<String> = p
        .sender
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.url.clone())
        .collect();
    assert_eq!(urls, [read.url.clone(), read.url.clone(), url(7)]);
}

/// Written logs, for asserting what they never hold.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_subscriptions_own_headers_are_sent_and_never_logged() {
    use tracing::instrument::WithSubscriber as _;
    let (p, m) = setup(500, Duration::from_secs(3600), true).await;
    let mut subscription = p
        .store
        .get_subscription(&ACC_1, &SUB_1)
        .await
        .unwrap()
        .unwrap();
    subscription.headers.insert(
        "Authorization".into(),
        "Bearer sekrit-receiver-token".into(),
    );
    p.store
        .update_subscription(&subscription, &subscription.updated_at)
        .await
        .unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = lambda_http::tracing::subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    // A failure and a success: every log line of both paths, at DEBUG.
    batch(&p, &m, 1).with_subscriber(subscriber).await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("\"batch\""), "the batch was logged: {logs}");
    assert!(!logs.contains("sekrit"), "{logs}");
    let sent = p.sender.requests.lock().unwrap()[0].clone();
    assert!(
        sent.headers
            .iter()
            .any(|(n, v)| n == "Authorization" && v == "Bearer sekrit-receiver-token")
    );
    assert!(
        !format!("{sent:?}").contains("sekrit"),
        "the request's Debug names headers only"
    );
}
