//! Operational events: what the platform tells an account about its own subscriptions.

use super::ids::{AccountId, EventId, SubscriptionId};
use super::time::Timestamp;
use serde::Serialize;

/// The type of the event that asks a subscription's receiver to prove intent.
pub const WEBHOOK_VERIFICATION: &str = "webhook.verification";

/// The data of a `webhook.verification` event: answer 2xx with the challenge as the body (or
/// `{"challenge": "…"}`) and the subscription becomes active.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WebhookVerification {
    pub subscription_id: SubscriptionId,
    pub challenge: String,
}

impl WebhookVerification {
    /// The event, to that subscription only.
    #[must_use]
    pub fn event(&self, account: AccountId) -> super::Event {
        super::Event {
            id: EventId::new(),
            account_id: account,
            event_type: WEBHOOK_VERIFICATION.to_owned(),
            created_at: Timestamp::now(),
            data: serde_json::to_value(self).unwrap_or_default(),
            subscription_id: Some(self.subscription_id),
        }
    }
}

impl super::Subscription {
    /// The challenge of an event that verifies this subscription's intent: a
    /// `webhook.verification` carrying the challenge it waits for.
    #[must_use]
    pub fn challenge_of<'e>(&self, event: &'e super::Event) -> Option<&'e str> {
        let waiting = self.verification.as_ref()?;
        let challenge = event.data.get("challenge")?.as_str()?;
        (event.event_type == WEBHOOK_VERIFICATION && challenge == waiting.challenge)
            .then_some(challenge)
    }

    /// Whether `event` may be delivered to it: it is active, or it is the event that verifies it.
    #[must_use]
    pub fn takes(&self, event: &super::Event) -> bool {
        self.active || self.challenge_of(event).is_some()
    }
}

/// Whether a receiver's answer `body` echoes `challenge`: the challenge itself (surrounding
/// whitespace aside), or a JSON object whose `challenge` is it.
#[must_use]
pub fn echoes(body: &str, challenge: &str) -> bool {
    body.trim() == challenge
        || serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("challenge")?.as_str().map(|c| c == challenge))
            .unwrap_or(false)
}

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

#[cfg(test)]
mod tests {
    use super::echoes;

    #[test]
    fn a_challenge_is_echoed_plain_or_as_json() {
        let c = "ch_abc123";
        for body in [
            "ch_abc123",
            "ch_abc123\n",
            r#"{"challenge":"ch_abc123"}"#,
            r#"{"challenge": "ch_abc123", "ok": true}"#,
        ] {
            assert!(echoes(body, c), "{body}");
        }
        for body in [
            "",
            "ok",
            "ch_abc1234",
            r#"{"challenge":"other"}"#,
            r#"{"Challenge":"ch_abc123"}"#,
            "\"ch_abc123\"",
        ] {
            assert!(!echoes(body, c), "{body}");
        }
    }
}
