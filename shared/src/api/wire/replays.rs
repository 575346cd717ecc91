//! Replays of a subscription's events.

use crate::model::{Replay, SubscriptionId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Deliver again every stored event from `since` to `until` (default: now) that the
/// subscription gets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// RFC 3339; events are kept 30 days.
    #[schema(format = DateTime)]
    pub since: String,
    /// RFC 3339, after `since`; a time to come counts as now.
    #[schema(format = DateTime)]
    pub until: Option<String>,
}

/// A replay: its events are queued off the request path, one delivery each.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplayOut {
    /// The same for the same subscription and window.
    pub id: String,
    pub subscription_id: SubscriptionId,
    pub since: Timestamp,
    pub until: Timestamp,
    /// The events queued again (each is delivered once more).
    pub events: usize,
    pub created_at: Timestamp,
    /// `true` when this window was replayed before: nothing new was queued.
    pub repeated: bool,
}

impl ReplayOut {
    #[must_use]
    pub fn of(replay: Replay, repeated: bool) -> Self {
        Self {
            id: replay.id,
            subscription_id: replay.subscription_id,
            since: replay.since,
            until: replay.until,
            events: replay.events,
            created_at: replay.created_at,
            repeated,
        }
    }
}
