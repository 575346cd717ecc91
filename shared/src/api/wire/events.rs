//! Events, their deliveries, resends and the dead-letter redrive.

use crate::model::EventBody;
use crate::model::Timestamp;
use crate::model::delivery::DeliveryState;
use crate::model::{EventId, SubscriptionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// `noun.verb`, lowercase; `webhook.*` is reserved.
    #[serde(rename = "type")]
    #[schema(pattern = r"^[a-z0-9_]+\.[a-z0-9_]+$", max_length = 100)]
    pub event_type: String,
    /// Delivered as the event's `data`, exactly: each key once per object, and numbers within
    /// 64-bit integers or double precision (others would change on the way; send them as strings).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// An event was created (or, with an `Idempotency-Key` used in the last 24 h, had been).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventAccepted {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: Timestamp,
}

impl From<&crate::model::Event> for EventAccepted {
    fn from(event: &crate::model::Event) -> Self {
        Self {
            id: event.id,
            event_type: event.event_type.clone(),
            created_at: event.created_at,
        }
    }
}

/// Where the event's delivery to one subscription stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub subscription_id: SubscriptionId,
    pub status: DeliveryState,
    pub attempts: u32,
    /// `null` while no attempt was made.
    pub updated_at: Option<Timestamp>,
    pub next_attempt_at: Option<Timestamp>,
}

/// An event with its deliveries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventWithDeliveries {
    #[serde(flatten)]
    pub event: EventBody,
    pub deliveries: Vec<DeliveryOut>,
}

/// Send the event again: to this subscription, or (no body) to every active one it matches.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {
    /// One subscription of the account; absent or `null`: every active one the event matches.
    #[schema(value_type = Option<SubscriptionId>)]
    pub subscription_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Resent {
    pub event_id: EventId,
    /// The subscriptions a delivery was queued for.
    pub queued: Vec<SubscriptionId>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Redriven {
    /// `move_task` (SQS's `StartMessageMoveTask`, which runs on) or `copy`.
    pub method: &'static str,
    /// Messages moved, when copied; for a move task, the dead-letter count when it started.
    pub messages: u64,
}
