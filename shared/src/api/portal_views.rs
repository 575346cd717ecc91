//! What the portal's pages show, within a session's grant: the endpoints it covers with their
//! day of activity, the event log (only events delivered to a covered endpoint when the grant
//! is limited), and an event's attempts. Whatever the grant does not cover is not found.

use super::base::{Api, PageRequest, check_type_filter};
use super::wire::{EventWithDeliveries, SubscriptionOut};
use crate::api::error::{ApiError, ApiResult};
use crate::domain::activity::{self, HOURS, Hour};
use crate::model::delivery::{Attempt, DeliveryState};
use crate::model::{Event, EventId, PortalGrant, SubscriptionId, Timestamp, now};
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use std::collections::BTreeMap;

/// The most endpoints a portal lists, and attempts its day of activity reads.
pub const PORTAL_MAX_ENDPOINTS: usize = 500;
pub const ACTIVITY_MAX_ATTEMPTS: usize = 20_000;
/// Events a page of the event log scans.
pub const EVENT_LOG_PAGE: usize = 20;

/// The last day's attempts: per hour, and each endpoint's success rate.
#[derive(Debug, Clone)]
pub struct Activity {
    pub hours: [Hour; HOURS],
    pub success_rates: BTreeMap<SubscriptionId, u32>,
}

/// Which events of the log to show, by the deliveries the grant covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Some delivery failed for good.
    Failed,
    /// Some delivery is still to be made or retried.
    Pending,
    /// Every delivery succeeded.
    Delivered,
}

impl StatusFilter {
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "failed" => Some(Self::Failed),
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            _ => None,
        }
    }

    fn keeps(self, event: &EventWithDeliveries) -> bool {
        let states = || event.deliveries.iter().map(|d| d.status);
        match self {
            Self::Failed => states().any(|s| s == DeliveryState::Failed),
            Self::Pending => {
                states().any(|s| matches!(s, DeliveryState::Pending | DeliveryState::Retrying))
            }
            Self::Delivered => {
                !event.deliveries.is_empty() && states().all(|s| s == DeliveryState::Delivered)
            }
        }
    }
}

/// A page of the event log.
#[derive(Debug, Clone)]
pub struct EventLog {
    pub events: Vec<EventWithDeliveries>,
    pub next_cursor: Option<String>,
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// The subscription, when the grant covers it.
    ///
    /// # Errors
    /// Not found when it does not, or there is none.
    pub async fn portal_endpoint(
        &self,
        grant: &PortalGrant,
        id: &SubscriptionId,
    ) -> ApiResult<SubscriptionOut> {
        Self::portal_covers(grant, id)?;
        self.get_subscription(&grant.account_id, id).await
    }

    /// The endpoints the grant covers, oldest first.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn portal_endpoints(&self, grant: &PortalGrant) -> ApiResult<Vec<SubscriptionOut>> {
        let account = &grant.account_id;
        if let Some(ids) = &grant.subscriptions {
            let mut found = Vec::new();
            for id in ids {
                match self.get_subscription(account, id).await {
                    Ok(subscription) => found.push(subscription),
                    Err(ApiError::NotFound(_)) => {}
                    Err(other) => return Err(other),
                }
            }
            return Ok(found);
        }
        let mut found = Vec::new();
        let mut cursor = None;
        loop {
            let page = PageRequest {
                limit: super::MAX_PAGE,
                cursor,
            };
            let listed = self.list_subscriptions(account, None, page).await?;
            found.extend(listed.data);
            cursor = listed.next_cursor;
            if cursor.is_none() || found.len() >= PORTAL_MAX_ENDPOINTS {
                return Ok(found);
            }
        }
    }

    /// The last day's attempts to the endpoints the grant covers.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn portal_activity(&self, grant: &PortalGrant) -> ApiResult<Activity> {
        let now = now();
        let since = day_before(now);
        let attempts: Vec<Attempt> = self
            .store
            .attempts_since(&grant.account_id, since, ACTIVITY_MAX_ATTEMPTS)
            .await?
            .into_iter()
            .filter(|a| grant.covers(&a.subscription_id))
            .collect();
        Ok(Activity {
            hours: activity::hourly(&attempts, now),
            success_rates: activity::success_rates(&attempts),
        })
    }

    /// A page of the event log: newest first, of one type when asked, with the deliveries the
    /// grant covers; a limited grant sees only events with such a delivery.
    ///
    /// # Errors
    /// Invalid type; bad cursor; storage failure.
    pub async fn portal_events(
        &self,
        grant: &PortalGrant,
        event_type: Option<&str>,
        status: Option<StatusFilter>,
        cursor: Option<String>,
    ) -> ApiResult<EventLog> {
        check_type_filter("type", event_type)?;
        let listed = self
            .store
            .list_events(
                &grant.account_id,
                event_type,
                EVENT_LOG_PAGE,
                cursor.as_deref(),
            )
            .await?;
        let mut events = Vec::new();
        for event in &listed.items {
            let Some(event) = self.covered(grant, event).await? else {
                continue;
            };
            if status.is_none_or(|s| s.keeps(&event)) {
                events.push(event);
            }
        }
        Ok(EventLog {
            events,
            next_cursor: listed.next_cursor,
        })
    }

    /// An event with the deliveries the grant covers.
    ///
    /// # Errors
    /// Not found when there is none, or a limited grant covers none of its deliveries.
    pub async fn portal_event(
        &self,
        grant: &PortalGrant,
        id: &EventId,
    ) -> ApiResult<EventWithDeliveries> {
        let event = self
            .store
            .get_event(&grant.account_id, id)
            .await?
            .ok_or(ApiError::NotFound("event"))?;
        self.covered(grant, &event)
            .await?
            .ok_or(ApiError::NotFound("event"))
    }

    /// The event with the deliveries the grant covers; `None` when a limited grant covers none.
    async fn covered(
        &self,
        grant: &PortalGrant,
        event: &Event,
    ) -> ApiResult<Option<EventWithDeliveries>> {
        let mut deliveries = self.deliveries(event).await?;
        deliveries.retain(|d| grant.covers(&d.subscription_id));
        if !grant.is_whole_account() && deliveries.is_empty() {
            return Ok(None);
        }
        Ok(Some(EventWithDeliveries {
            event: event.representation(),
            deliveries,
        }))
    }

    /// The attempts to deliver an event to the endpoints the grant covers, newest first.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn portal_event_attempts(
        &self,
        grant: &PortalGrant,
        id: &EventId,
    ) -> ApiResult<Vec<Attempt>> {
        let mut attempts = self.store.attempts_of_event(&grant.account_id, id).await?;
        attempts.retain(|a| grant.covers(&a.subscription_id));
        Ok(attempts)
    }

    /// Checks that the grant covers a subscription (to act on it).
    ///
    /// # Errors
    /// Not found when it does not.
    pub fn portal_covers(grant: &PortalGrant, id: &SubscriptionId) -> ApiResult<()> {
        if grant.covers(id) {
            Ok(())
        } else {
            Err(ApiError::NotFound("subscription"))
        }
    }
}

/// A day before `now`.
fn day_before(now: Timestamp) -> Timestamp {
    Timestamp::from_unix_millis(now.unix_millis() - 86_400_000).unwrap_or(now)
}
