//! Operational events: what the platform tells an account about its own subscriptions.

use super::ids::{AccountId, EventId, SubscriptionId};
use super::time::Timestamp;
use serde::Serialize;

/// The type of the event a subscription's automatic disabling emits.
pub const SUBSCRIPTION_DISABLED: &str = "subscription.disabled";

/// The data of a `subscription.disabled` event: the platform turned a subscription off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SubscriptionDisabled {
    pub subscription_id: SubscriptionId,
    pub url: String,
    /// Why: the endpoint answered 410 Gone, or every delivery failed for too long.
    pub reason: String,
    pub disabled_at: Timestamp,
}

impl SubscriptionDisabled {
    /// The event that says so, to the account's subscriptions of `subscription.disabled`.
    #[must_use]
    pub fn event(&self, account: AccountId) -> super::Event {
        super::Event {
            id: EventId::new(),
            account_id: account,
            event_type: SUBSCRIPTION_DISABLED.to_owned(),
            created_at: self.disabled_at,
            data: serde_json::to_value(self).unwrap_or_default(),
            subscription_id: None,
        }
    }
}
