//! Sample events: an account opts in to `order.received` samples at a period, and the scheduled
//! `samples` function emits each minute's share (see [`crate::domain::sample_orders`]). The
//! samples are published like any event: through the outbox, to the subscriptions that match.

use super::base::Api;
use super::wire::{SampleEventsOut, SampleEventsSettings};
use crate::api::error::{ApiError, ApiResult};
use crate::domain::sample_orders::{self, DEFAULT_PERIOD, MAX_PERIOD, MIN_PERIOD, ORDER_RECEIVED};
use crate::domain::secrets;
use crate::model::{AccountId, Event, EventId, now};
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use crate::ports::{EventStore, SampleEventStore, StoreResult, Stores};
use std::future::Future;
use std::time::Duration;

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// # Errors
    /// Storage failure.
    pub async fn get_sample_events(&self, account: &AccountId) -> ApiResult<SampleEventsOut> {
        let period = self.store.sample_events(account).await?;
        Ok(SampleEventsOut {
            enabled: period.is_some(),
            period_seconds: period,
        })
    }

    /// Turns the account's sample events on (at a period) or off.
    ///
    /// # Errors
    /// A period outside 5..=3600 (422); storage failure.
    pub async fn put_sample_events(
        &self,
        account: &AccountId,
        settings: SampleEventsSettings,
    ) -> ApiResult<SampleEventsOut> {
        let period = settings.period_seconds.unwrap_or(DEFAULT_PERIOD);
        if !(MIN_PERIOD..=MAX_PERIOD).contains(&period) {
            return Err(ApiError::invalid(
                "period_seconds",
                format!("must be from {MIN_PERIOD} to {MAX_PERIOD}"),
            ));
        }
        let period = settings.enabled.then_some(period);
        self.store.set_sample_events(account, period).await?;
        Ok(SampleEventsOut {
            enabled: settings.enabled,
            period_seconds: period,
        })
    }
}

/// A new `order.received` sample event of the account.
fn sample(account: AccountId) -> Event {
    let mut random = [0u8; 16];
    secrets::fill_random(&mut random);
    Event {
        id: EventId::new(),
        account_id: account,
        event_type: ORDER_RECEIVED.to_owned(),
        created_at: now(),
        data: serde_json::to_value(sample_orders::order(&random)).unwrap_or_default(),
        subscription_id: None,
    }
}

/// Emits the samples of the minute starting at `minute_start` (Unix seconds) for every account
/// that asked for them, each at its offsets in the minute (`wait` sleeps; accounts side by
/// side); how many were published. An account's failed write is logged and its minute ends.
///
/// # Errors
/// The accounts could not be read.
pub async fn emit_sample_minute<S, W, F>(
    store: &S,
    minute_start: i64,
    wait: W,
) -> StoreResult<usize>
where
    S: SampleEventStore + EventStore,
    W: Fn(Duration) -> F + Sync,
    F: Future<Output = ()> + Send,
{
    let accounts = store.sample_accounts().await?;
    let per_account = accounts.into_iter().map(|(account, period)| {
        let wait = &wait;
        async move {
            let mut sent = 0;
            for offset in sample_orders::offsets(period, minute_start) {
                // Due at the minute's start plus the offset; one already past is sent at once.
                let due = (minute_start * 1000)
                    .saturating_add(i64::try_from(offset.as_millis()).unwrap_or(i64::MAX));
                if let Ok(ahead) = u64::try_from(due - now().unix_millis()) {
                    wait(Duration::from_millis(ahead)).await;
                }
                if let Err(error) = store.publish(&sample(account), None).await {
                    tracing::warn!(%error, %account, "a sample event could not be written");
                    break;
                }
                sent += 1;
            }
            sent
        }
    });
    Ok(futures::future::join_all(per_account)
        .await
        .into_iter()
        .sum())
}
