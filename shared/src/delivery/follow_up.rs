//! After a batch's write: the log line of each delivery, and what its outcome entails for the
//! subscription (healthy again, failing, disabled).

use super::cache::SubscriptionCache;
use super::plan::{DeliverySettings, Disposition, PipelineError};
use super::plan::{Planned, SentAttempt};
use crate::model::AccountId;
use crate::model::delivery::DeliveryState;
use crate::model::now;
use crate::model::operational::SubscriptionDisabled;
use crate::ports::delivery::DeliveryStore;

/// After the batch's write: the log line, and what the outcome entails for the subscription.
pub(super) async fn follow_up<S: DeliveryStore>(
    store: &S,
    settings: &DeliverySettings,
    cache: &SubscriptionCache,
    plan: Planned<'_>,
) -> Result<Disposition, PipelineError> {
    let message = plan.delivery.message;
    let account = &message.account_id;
    let Some(record) = &plan.record else {
        return Ok(plan.disposition);
    };
    // A line per delivery at DEBUG only: at INFO the batch's summary line says it (CloudWatch
    // bills each byte).
    let attempt = record.attempt.as_ref();
    tracing::debug!(
        event_id = %message.event_id,
        subscription_id = %plan.delivery.target.subscription_id,
        attempt = plan.delivery.attempt,
        status = record.status.status.as_str(),
        status_code = attempt.and_then(|a| a.status_code),
        error = attempt.and_then(|a| a.error.as_deref()),
        duration_ms = attempt.map(|a| a.duration_ms),
        "delivery"
    );
    let Some(sent) = plan.sent else {
        return Ok(plan.disposition);
    };
    if let (true, Some(challenge)) = (sent.delivered, &sent.challenge) {
        if store
            .mark_verified(account, &sent.subscription_id, challenge)
            .await?
        {
            tracing::info!(subscription_id = %sent.subscription_id, "subscription verified");
        }
        cache.forget(*account, sent.subscription_id);
    }
    if sent.delivered {
        if sent.was_failing {
            store.mark_healthy(account, &sent.subscription_id).await?;
            cache.set_failing(*account, sent.subscription_id, false);
        }
    } else if sent.gone {
        disable(
            store,
            account,
            &sent,
            "the endpoint answered 410 Gone".into(),
        )
        .await?;
        cache.forget(*account, sent.subscription_id);
    } else {
        cache.set_failing(*account, sent.subscription_id, true);
        if disable_if_failing_too_long(store, settings, account, &sent).await? {
            cache.forget(*account, sent.subscription_id);
        }
        if sent.challenge.is_some() && record.status.status == DeliveryState::Failed {
            let why = attempt
                .and_then(|a| a.error.clone())
                .or_else(|| {
                    attempt
                        .and_then(|a| a.status_code)
                        .map(|c| format!("it answered {c}"))
                })
                .unwrap_or_default();
            let reason = format!("the receiver did not prove intent: {why}");
            disable(store, account, &sent, reason).await?;
            cache.forget(*account, sent.subscription_id);
        }
        if record.status.status == DeliveryState::Failed {
            tracing::warn!(delivery_id = %record.status.delivery_id, attempts = plan.delivery.attempt, "delivery exhausted its attempts; it goes to the dead-letter queue");
        }
    }
    Ok(plan.disposition)
}

/// Turns the subscription off with `reason`, emitting its `subscription.disabled` event (once,
/// whoever gets there first); whether this call did.
async fn disable<S: DeliveryStore>(
    store: &S,
    account: &AccountId,
    sent: &SentAttempt,
    reason: String,
) -> Result<bool, PipelineError> {
    let disabled = SubscriptionDisabled {
        subscription_id: sent.subscription_id,
        url: sent.url.clone(),
        reason,
        disabled_at: now(),
    };
    let done = store.deactivate(account, &disabled).await?;
    if done {
        tracing::warn!(subscription_id = %sent.subscription_id, reason = %disabled.reason, "subscription disabled");
    }
    Ok(done)
}

/// Deactivates a subscription whose deliveries have all failed for longer than the window;
/// whether it is off.
async fn disable_if_failing_too_long<S: DeliveryStore>(
    store: &S,
    settings: &DeliverySettings,
    account: &AccountId,
    sent: &SentAttempt,
) -> Result<bool, PipelineError> {
    let subscription_id = &sent.subscription_id;
    let since = store
        .mark_failing(
            account,
            subscription_id,
            &now(),
            settings.schedule.failing_gap(),
        )
        .await?;
    let failing_for = u64::try_from(now().unix_millis() - since.unix_millis())
        .map(std::time::Duration::from_millis)
        .unwrap_or_default();
    if failing_for > settings.disable_after {
        let reason = format!("every delivery has failed since {since}");
        disable(store, account, sent, reason).await?;
        return Ok(true);
    }
    Ok(false)
}
