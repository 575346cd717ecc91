//! One batch of deliveries: one read of what they need (subscriptions from the warm cache when
//! new enough), the POSTs concurrently, one write of every status and attempt, and an outcome
//! per delivery.

use super::cache::SubscriptionCache;
use super::follow_up::follow_up;
use super::plan::{Delivery, DeliverySettings, Disposition, PipelineError, Planned, SentAttempt};
use super::send::send;
use super::summary::Summary;
use crate::model::delivery::{Attempt, DeliveryMessage, DeliveryState, DeliveryStatus};
use crate::model::operational::echoes;
use crate::model::{AccountId, EventId, SubscriptionId, Timestamp, now};
use crate::ports::delivery::{
    DeliveryContext, DeliveryStore, Recorded, SubscriptionState, WebhookSender,
};
use crate::ports::resolver::Resolver;
use crate::ports::{EventStore, StoreError, SubscriptionStore};

/// Delivers the first target of one message on its `attempt`, reading everything afresh.
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
    let Some(target) = message.targets.first() else {
        return Ok(Disposition::Done);
    };
    let mut outcomes = deliver_all(
        store,
        sender,
        resolver,
        settings,
        &SubscriptionCache::new(std::time::Duration::ZERO),
        &[Delivery {
            message,
            target: *target,
            attempt,
            jitter,
        }],
    )
    .await;
    outcomes.pop().unwrap_or(Ok(Disposition::Done))
}

/// Delivers a batch: one read of what the batch needs and `cache` lacks (its subscriptions,
/// its events and their deliveries' statuses), the POSTs concurrently, one write of every
/// status and attempt, then what each outcome entails (the failing mark, deactivation).
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
    cache: &SubscriptionCache,
    deliveries: &[Delivery<'_>],
) -> Vec<Result<Disposition, PipelineError>>
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    deliver_summarised(store, sender, resolver, settings, cache, deliveries)
        .await
        .0
}

/// [`deliver_all`], with what the batch came to.
pub(super) async fn deliver_summarised<S, W, R>(
    store: &S,
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    cache: &SubscriptionCache,
    deliveries: &[Delivery<'_>],
) -> (Vec<Result<Disposition, PipelineError>>, Summary)
where
    S: DeliveryStore + SubscriptionStore + EventStore,
    W: WebhookSender,
    R: Resolver,
{
    let contexts = match read_contexts(store, cache, deliveries).await {
        Ok(contexts) => contexts,
        Err(error) => {
            let outcomes: Vec<_> = (0..deliveries.len())
                .map(|_| Err(PipelineError::Store(error.clone())))
                .collect();
            let summary = Summary {
                deliveries: deliveries.len(),
                errors: deliveries.len(),
                ..Summary::default()
            };
            return (outcomes, summary);
        }
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
    let mut summary = Summary::of(&planned);
    let outcomes = futures::future::join_all(planned.into_iter().map(|plan| async {
        let plan = plan?;
        if plan.record.is_some()
            && let Err(error) = &written
        {
            return Err(PipelineError::Store(error.clone()));
        }
        follow_up(store, settings, cache, plan).await
    }))
    .await;
    summary.count_late_errors(&outcomes);
    (outcomes, summary)
}

/// What each delivery reads: its subscription (from `cache` when it has a copy new enough,
/// else read and kept), its event and its latest status, in the order of `deliveries`.
async fn read_contexts<S: DeliveryStore>(
    store: &S,
    cache: &SubscriptionCache,
    deliveries: &[Delivery<'_>],
) -> Result<Vec<DeliveryContext>, StoreError> {
    let mut unread: Vec<(AccountId, SubscriptionId)> = Vec::new();
    let mut events: Vec<(AccountId, EventId)> = Vec::new();
    let mut cached: Vec<Option<SubscriptionState>> = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        let key = delivery.key();
        let subscription = (key.account_id, key.subscription_id);
        let copy = cache.get(key.account_id, &delivery.target);
        if copy.is_none() && !unread.contains(&subscription) {
            unread.push(subscription);
        }
        cached.push(copy);
        if !events.contains(&(key.account_id, key.event_id)) {
            events.push((key.account_id, key.event_id));
        }
    }
    let (read, events_read) = futures::future::try_join(
        async {
            if unread.is_empty() {
                Ok(Vec::new())
            } else {
                store.delivery_subscriptions(&unread).await
            }
        },
        store.event_deliveries(&events),
    )
    .await?;
    if read.len() != unread.len() || events_read.len() != events.len() {
        return Err(StoreError::Backend("read count".into()));
    }
    let read: Vec<((AccountId, SubscriptionId), SubscriptionState)> =
        unread.into_iter().zip(read).collect();
    for ((account, id), state) in &read {
        cache.put(*account, *id, state);
    }
    Ok(deliveries
        .iter()
        .zip(cached)
        .map(|(delivery, cached)| {
            let key = delivery.key();
            let state = cached
                .or_else(|| {
                    read.iter()
                        .find(|(k, _)| *k == (key.account_id, key.subscription_id))
                        .map(|(_, state)| state.clone())
                })
                .unwrap_or_default();
            let event = events
                .iter()
                .position(|e| *e == (key.account_id, key.event_id))
                .and_then(|i| events_read.get(i));
            DeliveryContext {
                subscription: state.subscription,
                failing: state.failing,
                event: event.and_then(|e| e.event.clone()),
                status: event.and_then(|e| {
                    e.statuses
                        .iter()
                        .find(|s| s.subscription_id == key.subscription_id)
                        .cloned()
                }),
            }
        })
        .collect())
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
        ..
    } = delivery;
    let key = delivery.key();
    let delivery_id = key.delivery_id();
    let account = &message.account_id;
    let recorded = |state: DeliveryState,
                    attempts: u32,
                    next: Option<Timestamp>,
                    attempt: Option<Attempt>| Recorded {
        account_id: *account,
        attempt,
        status: DeliveryStatus {
            delivery_id: delivery_id.clone(),
            event_id: key.event_id,
            subscription_id: key.subscription_id,
            status: state,
            attempts,
            updated_at: now(),
            next_attempt_at: next,
        },
    };
    // The batch's read may lag a recent write: confirm before skipping, or when it read an older
    // subscription than fan-out matched.
    let current = context.subscription.as_ref().is_some_and(|s| {
        s.active
            && delivery
                .target
                .version
                .is_none_or(|version| s.updated_at >= version)
    });
    if !current {
        context.subscription = store
            .get_subscription(account, &key.subscription_id)
            .await?;
    }
    if context.event.is_none() {
        context.event = store.get_event(account, &message.event_id).await?;
    }
    // An inactive subscription gets nothing, but the event that verifies its intent.
    let ready = match (context.subscription, context.event) {
        (Some(subscription), Some(event)) if subscription.takes(&event) => {
            Some((subscription, event))
        }
        _ => None,
    };
    let Some((subscription, event)) = ready else {
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
    let answered = response.status.is_some_and(|s| (200..300).contains(&s));
    // A verification is delivered when the receiver echoes its challenge.
    let challenge = subscription.challenge_of(&event).map(str::to_owned);
    let echoed = challenge
        .as_deref()
        .is_none_or(|c| response.body.as_deref().is_some_and(|b| echoes(b, c)));
    let delivered = answered && echoed;
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
        delivery_id: delivery_id.clone(),
        event_id: event.id,
        subscription_id: subscription.id,
        attempt,
        attempted_at,
        status_code: response.status,
        error: response.error.or_else(|| {
            (answered && !echoed).then(|| "the response did not echo the challenge".to_owned())
        }),
        duration_ms,
        // A success keeps its status code and duration; the excerpt is kept to tell why an
        // attempt failed.
        response_body: response.body.filter(|_| !delivered),
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
            url: subscription.url.clone(),
            challenge,
            delivered,
            gone,
            was_failing: context.failing,
        }),
        disposition,
    })
}
