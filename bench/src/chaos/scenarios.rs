//! The faults, one scenario each, on one running pipeline: events published while the fault
//! lasts, then what arrived, what the dead-letter queue holds, a redrive, and what arrived after.

use super::emulators;
use super::outcome::{EVENTS, Scenario};
use super::watch::{Count, missing, publish, settle};
use crate::receiver::Mode;
use crate::rig::Rig;
use crate::stack::queue_url;
use aws_sdk_sqs::types::QueueAttributeName;
use shared::model::Subscription;
use shared::ports::SubscriptionStore as _;
use shared::ports::delivery::DeliveryQueue as _;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long an emulator stays down.
const OUTAGE: Duration = Duration::from_secs(10);
/// Publishing spread over this long, so the fault lands in the middle of it.
const SPREAD: Duration = Duration::from_secs(12);

fn pace() -> Duration {
    SPREAD / u32::try_from(EVENTS).unwrap_or(u32::MAX)
}

/// `deliver` invocations killed at random points (a quarter of them) while events flow.
pub async fn killed_deliver(rig: &Rig, from: usize) -> Result<Scenario, String> {
    let started = Instant::now();
    let killed_before = rig.killed.load(Ordering::Relaxed);
    rig.kill_per_mille.store(250, Ordering::Relaxed);
    let ports = rig.receiver.ports.clone();
    let published = publish(rig, from, EVENTS, pace()).await;
    let during = match &published {
        Ok((events, _)) => settle(rig, events, &ports).await.map(Some),
        Err(_) => Ok(None),
    };
    rig.kill_per_mille.store(0, Ordering::Relaxed);
    let (events, failures) = published?;
    during?;
    let killed = rig.killed.load(Ordering::Relaxed) - killed_before;
    let mut scenario = finish(rig, "deliver killed mid-batch", &events, &ports, started).await?;
    scenario.fault = format!(
        "1 in 4 deliver invocations killed 0-150 ms in (task aborted at its next await, the \
         invocation failed as Lambda reports a dead sandbox): {killed} killed"
    );
    scenario.publish_failures = failures;
    if killed == 0 {
        scenario.failed("no invocation was killed: the fault did not happen".into());
    }
    Ok(scenario)
}

/// Receivers that answer 500, time out, reset the connection, or answer 410 Gone.
pub async fn failing_receivers(rig: &Rig, from: usize) -> Result<Scenario, String> {
    let started = Instant::now();
    let ports = rig.receiver.ports.clone();
    let [p500, hang, reset, gone, ..] = ports[..] else {
        return Err("the chaos rig needs at least 4 receivers".into());
    };
    let faults = [
        (p500, Mode::Status(500)),
        (hang, Mode::Timeout),
        (reset, Mode::Reset),
        (gone, Mode::Status(410)),
    ];
    for (port, mode) in faults {
        rig.receiver.set_mode(port, mode).await?;
    }
    let (events, failures) = publish(rig, from, EVENTS, pace()).await?;
    let healthy: Vec<u16> = ports.iter().copied().skip(4).collect();
    settle(rig, &events, &healthy).await?;
    // Every delivery to the three failing receivers runs out of attempts.
    let expected_dead = 3 * events.len() as u64;
    let dead = wait_for_dead_letters(rig, expected_dead).await?;
    for (port, _) in faults {
        rig.receiver.set_mode(port, Mode::Verify).await?;
    }
    let gone_subscription = rig
        .store
        .get_subscription(&crate::rig::ACCOUNT, &rig.subscriptions[3])
        .await
        .map_err(|e| e.to_string())?;
    let expected: Vec<u16> = ports.iter().copied().filter(|p| *p != gone).collect();
    let mut scenario = finish(rig, "failing receivers", &events, &expected, started).await?;
    scenario.fault = "receivers answering 500, hanging past the 2 s timeout, resetting the \
                      connection, answering 410; set back to healthy before the redrive"
        .into();
    scenario.publish_failures = failures;
    if dead < expected_dead {
        scenario.failed(format!(
            "{dead} dead letters, expected {expected_dead} (3 failing receivers × {} events)",
            events.len()
        ));
    }
    match gone_subscription {
        Some(s) if !s.active => {
            scenario.notes.push(format!(
                "the 410 receiver's subscription is disabled ({}); its deliveries are not \
                 retried; re-enabled for the next scenarios",
                s.disabled_reason.clone().unwrap_or_default()
            ));
            reenable(rig, s).await?;
        }
        _ => scenario.failed("the subscription whose receiver answered 410 is still active".into()),
    }
    Ok(scenario)
}

/// What `PATCH /subscriptions/{id}` with `active: true` does.
async fn reenable(rig: &Rig, mut subscription: Subscription) -> Result<(), String> {
    let previous = subscription.updated_at;
    subscription.active = true;
    subscription.disabled_reason = None;
    subscription.updated_at = shared::model::now();
    rig.store
        .update_subscription(&subscription, &previous)
        .await
        .map_err(|e| format!("re-enabling the 410 receiver's subscription: {e}"))
}

/// The SQS emulator frozen for 10 s while events flow.
pub async fn frozen_sqs(rig: &Rig, stack_state: &Path, from: usize) -> Result<Scenario, String> {
    outage(
        rig,
        from,
        "SQS emulator frozen",
        "SQS emulator frozen (SIGSTOP) for 10 s mid-stream, then resumed",
        emulators::freeze_sqs(stack_state, OUTAGE),
    )
    .await
}

/// DynamoDB Local stopped for 10 s and started again on its data directory while events flow.
pub async fn restarted_dynamodb(
    rig: &Rig,
    stack_state: &Path,
    from: usize,
) -> Result<Scenario, String> {
    outage(
        rig,
        from,
        "DynamoDB Local restarted",
        "DynamoDB Local stopped for 10 s mid-stream, started again on its data directory",
        emulators::restart_dynamodb(stack_state, OUTAGE),
    )
    .await
}

/// Publishes while `fault` runs (3 s into the publishing).
async fn outage(
    rig: &Rig,
    from: usize,
    name: &'static str,
    fault: &str,
    inject: impl std::future::Future<Output = Result<(), String>>,
) -> Result<Scenario, String> {
    let started = Instant::now();
    let ports = rig.receiver.ports.clone();
    let delayed = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        inject.await
    };
    let (published, injected) = tokio::join!(publish(rig, from, EVENTS, pace()), delayed);
    injected?;
    let (events, failures) = published?;
    let mut scenario = finish(rig, name, &events, &ports, started).await?;
    fault.clone_into(&mut scenario.fault);
    scenario.publish_failures = failures;
    if failures > 0 {
        scenario.notes.push(format!(
            "{failures} publish attempts failed during the outage and were retried with their \
             Idempotency-Key"
        ));
    }
    Ok(scenario)
}

/// Waits until the dead-letter queue holds `expected` messages, or holds still for 30 s.
async fn wait_for_dead_letters(rig: &Rig, expected: u64) -> Result<u64, String> {
    let (mut last, mut since) = (0, Instant::now());
    loop {
        let now = dead_letters(rig).await?;
        if now >= expected {
            return Ok(now);
        }
        if now > last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() > super::watch::SETTLED {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn dead_letters(rig: &Rig) -> Result<u64, String> {
    messages(rig, "DeliveryDeadLetterQueue").await
}

/// How many messages the template's queue `logical` holds.
async fn messages(rig: &Rig, logical: &str) -> Result<u64, String> {
    let url = queue_url(&rig.stack, logical)?;
    let name = QueueAttributeName::ApproximateNumberOfMessages;
    let output = rig
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .map_err(|e| format!("GetQueueAttributes: {e}"))?;
    output
        .attributes
        .and_then(|a| a.get(&name).and_then(|n| n.parse().ok()))
        .ok_or_else(|| format!("{logical} has no message count"))
}

/// What arrived once the pipeline settled; then the dead-letter queue redriven and what arrived
/// after that.
async fn finish(
    rig: &Rig,
    name: &'static str,
    events: &HashSet<String>,
    ports: &[u16],
    started: Instant,
) -> Result<Scenario, String> {
    let before = settle(rig, events, ports).await?;
    let dead_lettered = dead_letters(rig).await?;
    let (redriven, after) = if dead_lettered > 0 {
        let redrive = rig.queue.redrive(10_000).await.map_err(|e| e.to_string())?;
        (redrive.messages, settle(rig, events, ports).await?)
    } else {
        (0, before)
    };
    let expected = events.len() * ports.len();
    let Count {
        delivered,
        duplicates,
        other_webhook_id,
    } = after;
    let mut scenario = Scenario {
        name,
        events: events.len(),
        expected_deliveries: expected,
        delivered_before_redrive: before.delivered,
        dead_lettered,
        redriven,
        delivered,
        lost: expected.saturating_sub(delivered),
        duplicates,
        duplicates_with_another_webhook_id: other_webhook_id,
        seconds: crate::measure::round(started.elapsed().as_secs_f64(), 1),
        passed: true,
        ..Scenario::default()
    };
    scenario.fanout_failures = messages(rig, "FanoutFailureQueue").await?;
    if scenario.lost > 0 {
        scenario.failed(format!("{} deliveries lost", scenario.lost));
        let arrivals = rig.receiver.arrivals().await?;
        scenario.lost_events = missing(&arrivals, events, ports);
        scenario.lost_events.truncate(10);
    }
    if other_webhook_id > 0 {
        scenario.failed(format!(
            "{other_webhook_id} duplicates under another webhook-id"
        ));
    }
    let left = dead_letters(rig).await?;
    if left > 0 {
        scenario.failed(format!(
            "{left} messages still dead-lettered after the redrive"
        ));
    }
    Ok(scenario)
}
