//! The delivery records: the message on the queue, a delivery's status and its attempt log.

use super::{AccountId, EventId, SubscriptionId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a delivery message on the queue carries: ids only, so any payload size fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    pub delivery_id: String,
    pub account_id: AccountId,
    pub event_id: EventId,
    pub subscription_id: SubscriptionId,
    /// A resend: deliver even if this delivery succeeded before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// Set on a delivery that goes on as a new message because its wait outgrew what is left of
    /// a message's 12 h of visibility (see [`crate::domain::retry::backoff`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation: Option<Continuation>,
}

impl DeliveryMessage {
    /// The delivery of `event_id` (of `account_id`) to `subscription_id`; `force` for a resend.
    #[must_use]
    pub fn new(
        account_id: AccountId,
        event_id: EventId,
        subscription_id: SubscriptionId,
        force: bool,
    ) -> Self {
        Self {
            delivery_id: delivery_id(event_id, subscription_id),
            account_id,
            event_id,
            subscription_id,
            force,
            continuation: None,
        }
    }
}

/// Where a continued delivery stands: its attempts so far and when the next one is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    /// Attempts made before this message was sent.
    pub attempts: u32,
    /// When the next attempt is due, in Unix milliseconds.
    pub due_at_ms: i64,
}

/// The delivery id of an (event, subscription) pair: the same however often the pair is fanned
/// out, so a re-processed stream record never makes a second logical delivery.
#[must_use]
pub fn delivery_id(event_id: EventId, subscription_id: SubscriptionId) -> String {
    let digest = Sha256::digest(format!("{event_id}:{subscription_id}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("dlv_{hex}")
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Retrying,
    Failed,
    Skipped,
}

impl DeliveryState {
    /// The name the API and the logs use.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

/// The latest state of one delivery (one per event and subscription).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    pub delivery_id: String,
    pub event_id: EventId,
    pub subscription_id: SubscriptionId,
    pub status: DeliveryState,
    pub attempts: u32,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
}

/// One attempt, as the attempt log keeps it (30 days) and the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub delivery_id: String,
    pub event_id: EventId,
    pub subscription_id: SubscriptionId,
    pub attempt: u32,
    pub attempted_at: Timestamp,
    /// The receiver's status code, when it answered.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Why there is no usable answer: `timeout`, `connect`, `refused_target`, `redirect`, …
    #[serde(default)]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// The response body, cut to 4 KB.
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub response_body: Option<String>,
    pub outcome: DeliveryState,
    #[serde(default)]
    pub next_attempt_at: Option<Timestamp>,
}

pub const RESPONSE_EXCERPT_BYTES: usize = 4096;

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn state_names_are_the_api_names() {
        for state in [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Retrying,
            DeliveryState::Failed,
            DeliveryState::Skipped,
        ] {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(state.as_str())
            );
        }
    }

    #[test]
    fn delivery_ids_are_deterministic_per_pair() {
        let (evt_1, evt_2) = (EventId::from_parts(1, 1), EventId::from_parts(1, 2));
        let (sub_1, sub_2) = (
            SubscriptionId::from_parts(1, 1),
            SubscriptionId::from_parts(1, 2),
        );
        assert_eq!(delivery_id(evt_1, sub_1), delivery_id(evt_1, sub_1));
        assert_ne!(delivery_id(evt_1, sub_1), delivery_id(evt_1, sub_2));
        assert_ne!(delivery_id(evt_1, sub_1), delivery_id(evt_2, sub_1));
        // SHA-256 of "<event id>:<subscription id>", first 16 bytes as hex.
        let sample = delivery_id(
            EventId::parse("evt_01KSAMP1E00000000000000001").unwrap(),
            SubscriptionId::parse("sub_01KSAMP1E00000000000000001").unwrap(),
        );
        assert_eq!(
            sample,
            format!(
                "dlv_{}",
                Sha256::digest(b"evt_01KSAMP1E00000000000000001:sub_01KSAMP1E00000000000000001")
                    .iter()
                    .take(16)
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )
        );
        assert_eq!(sample.len(), 36);
    }
}
