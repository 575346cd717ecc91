//! How `deliver_batch` keeps long waits within SQS's 12 h of visibility per receive: hidden when
//! the wait fits, continued on a new message when it does not, the attempt count carried along.

#![allow(clippy::unwrap_used)]

use super::Pipeline;
use super::batch::unix_ms;
use super::pipeline_tests::{ACC_1, NoDns, SUB_1, setup};
use crate::adapters::memory::{MemoryQueue, MemoryStore, RecordingSender};
use crate::domain::retry::RetrySchedule;
use crate::model::delivery::{Attempt, Continuation, DeliveryMessage, DeliveryState};
use crate::ports::delivery::{DeliveryStore, QueuedMessage};
use std::time::{Duration, SystemTime};

type TestPipeline = Pipeline<MemoryStore, MemoryQueue, RecordingSender, NoDns>;

const HOUR: Duration = Duration::from_secs(3600);

/// A pipeline on the default schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) whose receiver
/// answers `status` with `retry_after`.
async fn pipeline(status: u16, retry_after: Option<Duration>) -> (TestPipeline, DeliveryMessage) {
    let (mut p, m) = setup(status, 100 * HOUR, true).await;
    p.settings.schedule = RetrySchedule::default();
    p.sender.retry_after = retry_after;
    (p, m)
}

/// `message` as the queue hands it over: its `receives`-th receive, first received
/// `first_receive_ago`.
fn sqs(message: &DeliveryMessage, receives: u32, first_receive_ago: Duration) -> QueuedMessage {
    QueuedMessage {
        id: Some("m-1".into()),
        body: Some(serde_json::to_string(message).unwrap()),
        receipt_handle: Some("rh-1".into()),
        first_receive: Some(SystemTime::now() - first_receive_ago),
        receive_count: receives,
    }
}

fn continued(message: &DeliveryMessage, attempts: u32, due_in: Duration) -> DeliveryMessage {
    DeliveryMessage {
        continuation: Some(Continuation {
            attempts,
            due_at_ms: unix_ms(SystemTime::now() + due_in),
        }),
        ..message.clone()
    }
}

/// Runs one batch of one message; whether it stayed on the queue.
async fn run(p: &TestPipeline, record: QueuedMessage, invoked_ago: Duration) -> bool {
    let keep = p
        .deliver_batch(&[record], SystemTime::now() - invoked_ago)
        .await;
    keep == [true]
}

fn later(p: &TestPipeline) -> Vec<(DeliveryMessage, Duration)> {
    p.queue.later.lock().unwrap().clone()
}

fn hidden(p: &TestPipeline) -> Vec<Duration> {
    p.queue.delays.lock().unwrap().iter().map(|d| d.1).collect()
}

fn seconds_from_now(ms: i64) -> i64 {
    (ms - unix_ms(SystemTime::now())) / 1000
}

async fn last_attempt(p: &TestPipeline) -> Attempt {
    p.store
        .attempts_of_subscription(&ACC_1, &SUB_1, 1, None)
        .await
        .unwrap()
        .items
        .remove(0)
}

#[tokio::test]
async fn a_retry_after_of_12_hours_continues_on_a_new_message_due_in_12_hours() {
    let (p, m) = pipeline(503, Some(12 * HOUR)).await;
    // The 6th attempt (10 h scheduled, Retry-After honoured up to 20 h, capped at 12 h).
    let kept = run(&p, sqs(&m, 6, Duration::from_secs(2)), Duration::ZERO).await;
    assert!(!kept, "the received message is deleted");
    assert!(hidden(&p).is_empty(), "no visibility beyond 12 h is asked");
    let later = later(&p);
    assert_eq!(later.len(), 1);
    let (next, delay) = &later[0];
    assert_eq!(
        *delay,
        Duration::from_secs(900),
        "SQS's longest message delay"
    );
    let continuation = next.continuation.unwrap();
    assert_eq!(continuation.attempts, 6);
    let due = seconds_from_now(continuation.due_at_ms);
    assert!((43_190..=43_200).contains(&due), "due in {due} s");
    let attempt = last_attempt(&p).await;
    assert_eq!(
        (attempt.attempt, attempt.outcome),
        (6, DeliveryState::Retrying)
    );
    let next_at = attempt.next_attempt_at.unwrap().unix_millis();
    assert!(
        (next_at - continuation.due_at_ms).abs() < 1000,
        "the attempt log shows when the continued message is due"
    );
}

#[tokio::test]
async fn a_continued_message_not_due_is_hidden_until_it_is_without_an_attempt() {
    let (p, m) = pipeline(500, None).await;
    let waiting = continued(&m, 6, Duration::from_secs(42_300));
    let kept = run(&p, sqs(&waiting, 1, Duration::ZERO), Duration::ZERO).await;
    assert!(kept);
    let hidden = hidden(&p);
    assert_eq!(hidden.len(), 1);
    assert!(
        (42_290..=42_300).contains(&hidden[0].as_secs()),
        "{hidden:?}"
    );
    assert!(p.sender.requests.lock().unwrap().is_empty(), "no POST");
    assert!(later(&p).is_empty());
}

#[tokio::test]
async fn a_due_continued_message_is_the_next_attempt_and_always_continues() {
    let (p, m) = pipeline(500, None).await;
    // Received a second time (the first was its wait): still attempt 7, not 2 or 8.
    let due = continued(&m, 6, Duration::ZERO);
    let kept = run(&p, sqs(&due, 2, HOUR), Duration::ZERO).await;
    assert!(!kept);
    assert_eq!(p.sender.requests.lock().unwrap().len(), 1);
    assert_eq!(last_attempt(&p).await.attempt, 7);
    let later = later(&p);
    assert_eq!(later[0].0.continuation.unwrap().attempts, 7);
    assert!(
        hidden(&p).is_empty(),
        "its receive count is not its attempt"
    );
}

#[tokio::test]
async fn the_last_attempt_of_a_continued_delivery_goes_to_the_dead_letter_queue() {
    let (p, m) = pipeline(500, None).await;
    let kept = run(
        &p,
        sqs(&continued(&m, 7, Duration::ZERO), 2, HOUR),
        Duration::ZERO,
    )
    .await;
    assert!(!kept);
    assert_eq!(last_attempt(&p).await.outcome, DeliveryState::Failed);
    let dead = p.queue.dead_letters.lock().unwrap().clone();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].continuation, None,
        "a redrive starts the delivery afresh"
    );
    assert_eq!(dead[0].targets, m.targets);
}

#[tokio::test]
async fn a_message_received_long_before_the_call_is_not_hidden_past_its_12_hours() {
    let (p, m) = pipeline(500, None).await;
    // Attempt 4 (2 h scheduled) of a message received 11 h ago by an invocation that started then.
    let kept = run(&p, sqs(&m, 4, 11 * HOUR), 11 * HOUR).await;
    assert!(!kept);
    assert!(hidden(&p).is_empty());
    let later = later(&p);
    assert_eq!(later[0].0.continuation.unwrap().attempts, 4);
    // The same attempt on a message received just now is simply hidden for its 2 h ± 20 %.
    let (p, m) = pipeline(500, None).await;
    assert!(run(&p, sqs(&m, 4, Duration::from_secs(1)), Duration::ZERO).await);
    let hidden = hidden(&p);
    assert!((5_760..=8_640).contains(&hidden[0].as_secs()), "{hidden:?}");
    assert!(self::later(&p).is_empty());
}
