//! Replays: every stored event of a time window that a subscription gets, delivered again.

use super::ids::{AccountId, EventId, SubscriptionId};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What routing needs of an event, without its data: what a replay reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHead {
    pub id: EventId,
    pub event_type: String,
    /// The one subscription a `webhook.test` names.
    pub subscription_id: Option<SubscriptionId>,
}

/// A replay as it was asked for and found: its events are in its [`ReplayPart`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// The same for the same subscription and window, so a repeated request is recognised.
    pub id: String,
    pub account_id: AccountId,
    pub subscription_id: SubscriptionId,
    pub since: Timestamp,
    pub until: Timestamp,
    /// The events queued again.
    pub events: usize,
    pub created_at: Timestamp,
}

/// Up to [`ReplayPart::MAX_EVENTS`] events of a replay: fan-out turns each into one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayPart {
    pub replay_id: String,
    pub part: u32,
    pub account_id: AccountId,
    pub subscription_id: SubscriptionId,
    /// The subscription's `updated_at` when the replay was asked for.
    pub version: Timestamp,
    pub event_ids: Vec<EventId>,
}

impl ReplayPart {
    /// Events per part: 500 ids are about 16 KB, well inside an item and a fan-out invocation.
    pub const MAX_EVENTS: usize = 500;
}
