//! The delivery records: the message on the queue, a delivery's status and its attempt log.

use super::{AccountId, Event, EventId, Subscription, SubscriptionId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most deliveries one message carries: one event to up to this many subscriptions. Their
/// outcomes are then one stored item of about 1 KB (one write unit), and SQS bills one request
/// per message sent, received and deleted, whatever it carries.
pub const MAX_DELIVERIES_PER_MESSAGE: usize = 10;

/// What a delivery message on the queue carries: ids only (and each subscription's version), so
/// any payload size fits. One event, to one or more subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "MessageWire")]
pub struct DeliveryMessage {
    pub account_id: AccountId,
    pub event_id: EventId,
    /// Whom to deliver to, each with the version fan-out matched the event against.
    pub targets: Vec<Target>,
    /// A resend: deliver even if this delivery succeeded before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// Set on a delivery that goes on as a new message: after a failed attempt of a message with
    /// several deliveries, or because its wait outgrew what is left of a message's 12 h of
    /// visibility (see [`crate::domain::retry::backoff`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation: Option<Continuation>,
}

/// One subscription a message delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub subscription_id: SubscriptionId,
    /// The subscription's `updated_at` when the event was matched: `deliver` never uses an older
    /// copy of it (none on messages sent before versions were carried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Timestamp>,
}

/// The message as it may arrive: with `targets`, or in the earlier one-subscription form
/// (`subscription_id`), so messages queued before an upgrade are still delivered.
#[derive(Deserialize)]
struct MessageWire {
    account_id: AccountId,
    event_id: EventId,
    #[serde(default)]
    targets: Vec<Target>,
    #[serde(default)]
    subscription_id: Option<SubscriptionId>,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    continuation: Option<Continuation>,
}

impl From<MessageWire> for DeliveryMessage {
    fn from(wire: MessageWire) -> Self {
        let mut targets = wire.targets;
        if let Some(subscription_id) = wire.subscription_id {
            targets.push(Target {
                subscription_id,
                version: None,
            });
        }
        Self {
            account_id: wire.account_id,
            event_id: wire.event_id,
            targets,
            force: wire.force,
            continuation: wire.continuation,
        }
    }
}

impl DeliveryMessage {
    /// The delivery of `event_id` (of `account_id`) to `subscription_id` alone; `force` for a
    /// resend.
    #[must_use]
    pub fn new(
        account_id: AccountId,
        event_id: EventId,
        subscription_id: SubscriptionId,
        force: bool,
    ) -> Self {
        Self {
            account_id,
            event_id,
            targets: vec![Target {
                subscription_id,
                version: None,
            }],
            force,
            continuation: None,
        }
    }

    /// The messages that deliver `event` to each of `subscriptions` that is active, at most
    /// [`MAX_DELIVERIES_PER_MESSAGE`] to a message; `force` for a resend.
    #[must_use]
    pub fn for_subscriptions(
        event: &Event,
        subscriptions: &[Subscription],
        force: bool,
    ) -> Vec<Self> {
        let targets: Vec<Target> = subscriptions
            .iter()
            .filter(|s| s.takes(event))
            .map(|s| Target {
                subscription_id: s.id,
                version: Some(s.updated_at),
            })
            .collect();
        targets
            .chunks(MAX_DELIVERIES_PER_MESSAGE)
            .map(|chunk| Self {
                account_id: event.account_id,
                event_id: event.id,
                targets: chunk.to_vec(),
                force,
                continuation: None,
            })
            .collect()
    }

    /// The same message for one of its targets only, continued (see [`Continuation`]).
    #[must_use]
    pub fn continued(&self, target: Target, continuation: Option<Continuation>) -> Self {
        Self {
            targets: vec![target],
            continuation,
            ..self.clone()
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

/// The latest status of each delivery among `statuses` (later `updated_at` first, then more
/// attempts), by subscription id: records are appended, never overwritten, so a delivery may
/// have several.
#[must_use]
pub fn latest_statuses(statuses: impl IntoIterator<Item = DeliveryStatus>) -> Vec<DeliveryStatus> {
    let mut latest: std::collections::BTreeMap<(EventId, SubscriptionId), DeliveryStatus> =
        std::collections::BTreeMap::new();
    for status in statuses {
        let key = (status.event_id, status.subscription_id);
        let newer = latest.get(&key).is_none_or(|kept| {
            (status.updated_at, status.attempts) >= (kept.updated_at, kept.attempts)
        });
        if newer {
            latest.insert(key, status);
        }
    }
    latest.into_values().collect()
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

/// Orders attempts as every attempt log shows them: the latest first, and of two at once the
/// later attempt first.
pub fn newest_first(attempts: &mut [Attempt]) {
    attempts.sort_by_key(|a| std::cmp::Reverse((a.attempted_at, a.attempt)));
}

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
    fn a_message_reads_in_its_earlier_one_subscription_form_too() {
        let earlier = r#"{"delivery_id":"dlv_x","account_id":"acc_01KSAMP1E00000000000000001","event_id":"evt_01KSAMP1E00000000000000001","subscription_id":"sub_01KSAMP1E00000000000000001","force":true}"#;
        let message: DeliveryMessage = serde_json::from_str(earlier).unwrap();
        assert_eq!(
            message,
            DeliveryMessage::new(
                AccountId::parse("acc_01KSAMP1E00000000000000001").unwrap(),
                EventId::parse("evt_01KSAMP1E00000000000000001").unwrap(),
                SubscriptionId::parse("sub_01KSAMP1E00000000000000001").unwrap(),
                true
            )
        );
        let again: DeliveryMessage =
            serde_json::from_str(&serde_json::to_string(&message).unwrap()).unwrap();
        assert_eq!(again, message, "and round-trips in the current form");
    }

    #[test]
    fn an_event_is_one_message_per_ten_active_subscriptions_with_their_versions() {
        let account = AccountId::from_parts(1, 1);
        let at = Timestamp::from_unix_millis(1_764_000_000_000).unwrap();
        let subscriptions: Vec<Subscription> = (0..25)
            .map(|n| Subscription {
                id: SubscriptionId::from_parts(1, n),
                account_id: account,
                url: "https://hooks.example.com/".into(),
                event_types: vec!["*".into()],
                description: None,
                active: n != 3,
                secrets: vec![],
                disabled_reason: None,
                verification: None,
                headers: std::collections::BTreeMap::new(),
                created_at: at,
                updated_at: at.plus(std::time::Duration::from_millis(u64::try_from(n).unwrap())),
            })
            .collect();
        let event = Event {
            id: EventId::from_parts(1, 1),
            account_id: account,
            event_type: "a.b".into(),
            created_at: at,
            data: serde_json::json!({}),
            subscription_id: None,
        };
        let messages = DeliveryMessage::for_subscriptions(&event, &subscriptions, false);
        let sizes: Vec<usize> = messages.iter().map(|m| m.targets.len()).collect();
        assert_eq!(sizes, [10, 10, 4], "24 active subscriptions");
        let targets: Vec<Target> = messages.iter().flat_map(|m| m.targets.clone()).collect();
        assert!(
            !targets
                .iter()
                .any(|t| t.subscription_id == subscriptions[3].id)
        );
        assert_eq!(
            targets[5].version,
            Some(subscriptions[6].updated_at),
            "3 was left out"
        );
    }

    #[test]
    fn the_latest_status_of_each_delivery_wins() {
        let (event, sub) = (EventId::from_parts(1, 1), SubscriptionId::from_parts(1, 1));
        let status = |ms: i64, attempts: u32, state: DeliveryState| DeliveryStatus {
            delivery_id: delivery_id(event, sub),
            event_id: event,
            subscription_id: sub,
            status: state,
            attempts,
            updated_at: Timestamp::from_unix_millis(ms).unwrap(),
            next_attempt_at: None,
        };
        let latest = latest_statuses([
            status(2_000, 2, DeliveryState::Delivered),
            status(1_000, 1, DeliveryState::Retrying),
            status(2_000, 1, DeliveryState::Retrying),
        ]);
        assert_eq!(latest, vec![status(2_000, 2, DeliveryState::Delivered)]);
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
