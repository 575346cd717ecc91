//! One batch of deliveries: one read of what they need, the POSTs concurrently, one write of
//! every status and attempt, and an outcome per delivery.

use super::follow_up::follow_up;
use super::plan::{Delivery, DeliverySettings, Disposition, PipelineError, Planned, SentAttempt};
use super::send::send;
use crate::model::delivery::{Attempt, DeliveryMessage, DeliveryState, DeliveryStatus};
use crate::model::{Timestamp, now};
use crate::ports::delivery::{
    DeliveryContext, DeliveryKey, DeliveryStore, Recorded, WebhookSender,
};
use crate::ports::resolver::Resolver;
use crate::ports::{EventStore, StoreError, SubscriptionStore};

/// Delivers one message on its `attempt` (SQS's receive count).
///
/// # Errors
/// The store failed; the message stays on the queue and is retried.
pub async fn deliver<S, W, R>(
    store: &S,
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    message: &DeliveryMessage,
    attempt: u32,
    jitter: f64,
) -> Result<Disposition, PipelineError>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    let mut outcomes = deliver_all(
        store,
        sender,
        resolver,
        settings,
        &[Delivery {
            message,
            attempt,
            jitter,
        }],
    )
    .await;
    outcomes.pop().unwrap_or(Ok(Disposition::Done))
}

/// Delivers a batch: one read of everything the batch needs, the POSTs concurrently, one write
/// of every status and attempt, then what each outcome entails (the failing mark, deactivation).
/// An outcome per delivery, in order.
///
/// # Errors
/// Per delivery: the store failed (that delivery stays on the queue and is retried; when the
/// batch's write fails, every delivery that was to be recorded is retried).
pub async fn deliver_all<S, W, R>(
    store: &S,
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    deliveries: &[Delivery<'_>],
) -> Vec<Result<Disposition, PipelineError>>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    let keys: Vec<DeliveryKey> = deliveries
        .iter()
        .map(|d| DeliveryKey::of(d.message))
        .collect();
    let contexts = match store.delivery_contexts(&keys).await {
        Ok(contexts) if contexts.len() == deliveries.len() => contexts,
        Ok(_) => {
            return failed_all(
                deliveries.len(),
                &StoreError::Backend("context count".into()),
            );
        }
        Err(error) => return failed_all(deliveries.len(), &error),
    };
    let planned =
        futures::future::join_all(deliveries.iter().zip(contexts).map(|(delivery, context)| {
            attempt_one(store, sender, resolver, settings, *delivery, context)
        }))
        .await;
    let records: Vec<Recorded> = planned
        .iter()
        .filter_map(|p| p.as_ref().ok().and_then(|p| p.record.clone()))
        .collect();
    let written = if records.is_empty() {
        Ok(())
    } else {
        store.record_deliveries(&records).await
    };
    futures::future::join_all(planned.into_iter().map(|plan| async {
        let plan = plan?;
        if plan.record.is_some()
            && let Err(error) = &written
        {
            return Err(PipelineError::Store(error.clone()));
        }
        follow_up(store, settings, plan).await
    }))
    .await
}

fn failed_all(count: usize, error: &StoreError) -> Vec<Result<Disposition, PipelineError>> {
    (0..count)
        .map(|_| Err(PipelineError::Store(error.clone())))
        .collect()
}

/// Reads what the context lacks, skips or sends, and works out the record and the disposition.
async fn attempt_one<'a, S, W, R>(
    store: &S,
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    delivery: Delivery<'a>,
    mut context: DeliveryContext,
) -> Result<Planned<'a>, PipelineError>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    let Delivery {
        message,
        attempt,
        jitter,
    } = delivery;
    let account = &message.account_id;
    let recorded = |state: DeliveryState,
                    attempts: u32,
                    next: Option<Timestamp>,
                    attempt: Option<Attempt>| Recorded {
        account_id: *account,
        attempt,
        status: DeliveryStatus {
            delivery_id: message.delivery_id.clone(),
            event_id: message.event_id,
            subscription_id: message.subscription_id,
            status: state,
            attempts,
            updated_at: now(),
            next_attempt_at: next,
        },
    };
    // The batch's read may lag a recent write: confirm before skipping.
    if !context.subscription.as_ref().is_some_and(|s| s.active) {
        context.subscription = store
            .get_subscription(account, &message.subscription_id)
            .await?;
    }
    if context.event.is_none() {
        context.event = store.get_event(account, &message.event_id).await?;
    }
    let (Some(subscription), Some(event)) =
        (context.subscription.filter(|s| s.active), context.event)
    else {
        return Ok(Planned {
            delivery,
            record: Some(recorded(
                DeliveryState::Skipped,
                attempt.saturating_sub(1),
                None,
                None,
            )),
            sent: None,
            disposition: Disposition::Done,
        });
    };
    if !message.force
        && context
            .status
            .is_some_and(|previous| previous.status == DeliveryState::Delivered)
    {
        return Ok(Planned {
            delivery,
            record: None,
            sent: None,
            disposition: Disposition::Done,
        });
    }

    let started = std::time::Instant::now();
    let response = send(sender, resolver, settings, &subscription, &event).await;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let attempted_at = now();
    let delivered = response.status.is_some_and(|s| (200..300).contains(&s));
    let gone = response.status == Some(410);
    let retry = if delivered || gone {
        None
    } else {
        settings.schedule.delay(
            attempt,
            jitter,
            response
                .retry_after
                .filter(|_| matches!(response.status, Some(429 | 503))),
        )
    };
    let outcome = match (delivered, gone, retry) {
        (true, _, _) => DeliveryState::Delivered,
        (_, _, Some(_)) => DeliveryState::Retrying,
        _ => DeliveryState::Failed,
    };
    let next_attempt_at = retry.map(|d| now().plus(d));
    let record = Attempt {
        delivery_id: message.delivery_id.clone(),
        event_id: event.id,
        subscription_id: subscription.id,
        attempt,
        attempted_at,
        status_code: response.status,
        error: response.error,
        duration_ms,
        response_body: response.body,
        outcome,
        next_attempt_at,
    };
    let disposition = match retry {
        Some(delay) => Disposition::RetryAfter(delay),
        None if outcome == DeliveryState::Failed && !gone => Disposition::DeadLetter,
        None => Disposition::Done,
    };
    Ok(Planned {
        delivery,
        record: Some(recorded(outcome, attempt, next_attempt_at, Some(record))),
        sent: Some(SentAttempt {
            subscription_id: subscription.id,
            delivered,
            gone,
            was_failing: context.failing,
        }),
        disposition,
    })
}
