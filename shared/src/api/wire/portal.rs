//! Portal links: what an account asks for, and the one-time URL it hands its customer.

use crate::model::{SubscriptionId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPortalSession {
    /// Limit the portal to these subscriptions of the account (a customer's own endpoints):
    /// it then shows only them and the events delivered to them, and cannot create others.
    /// Absent or `null`: the whole account.
    #[schema(value_type = Option<Vec<SubscriptionId>>, max_items = 100)]
    pub subscription_ids: Option<Vec<String>>,
    /// How long the session lasts once the link is opened: 300 to 43,200 seconds (default 3,600).
    #[schema(minimum = 300, maximum = 43200)]
    pub session_seconds: Option<u32>,
}

/// A one-time portal link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortalLinkOut {
    /// Open it in a browser once, before `expires_at`; it signs that browser in.
    pub url: String,
    /// When the link stops working, if it was not opened (15 minutes).
    pub expires_at: Timestamp,
    pub session_seconds: u32,
    /// The subscriptions the portal is limited to; `null`: the whole account.
    pub subscription_ids: Option<Vec<SubscriptionId>>,
}
