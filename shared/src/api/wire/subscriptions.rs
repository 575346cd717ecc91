//! Subscriptions, their secrets, and the test event.

use crate::domain::headers;
use crate::model::Subscription;
use crate::model::SubscriptionId;
use crate::model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// What a subscription listens to: an event type (`noun.verb`), `noun.*`, or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(pattern = r"^(\*|[a-z0-9_]+\.(\*|[a-z0-9_]+))$", max_length = 100)]
pub struct EventTypeFilter(pub String);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// Where deliveries are POSTed; must pass the deployment's target policy (https, public).
    #[schema(format = "uri", max_length = 2048)]
    pub url: String,
    #[schema(min_items = 1, max_items = 50)]
    pub event_types: Vec<EventTypeFilter>,
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Defaults to `true`.
    pub active: Option<bool>,
    /// `true`: REST Hooks intent verification. The subscription starts `pending_verification`
    /// and gets a signed `webhook.verification` event with a `challenge`; once the receiver
    /// answers it 2xx with the challenge as the body (or `{"challenge": …}`) it becomes active.
    pub verify: Option<bool>,
    /// Sent with every delivery (e.g. `{"Authorization": "Bearer …"}`): at most 10, names of
    /// HTTP token characters (not hop-by-hop, `Content-*`, `Host`, `User-Agent` or `webhook-*`),
    /// values of 1 to 1024 visible ASCII characters, 4096 bytes in all. Shown masked.
    pub headers: Option<BTreeMap<String, String>>,
}

/// The fields to change; the others keep their values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionChanges {
    #[schema(format = "uri", max_length = 2048)]
    pub url: Option<String>,
    #[schema(min_items = 1, max_items = 50)]
    pub event_types: Option<Vec<EventTypeFilter>>,
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// `true` re-enables a disabled subscription and clears its `disabled_reason`.
    pub active: Option<bool>,
    /// Replaces every custom header (`{}` removes them all); rules as on create.
    pub headers: Option<BTreeMap<String, String>>,
}

/// A subscription as the API shows it: everything but its secrets.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Subscription)]
pub struct SubscriptionOut {
    pub id: SubscriptionId,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    /// `pending_verification` (waiting for its receiver to echo the challenge), `active` or
    /// `disabled`.
    #[schema(pattern = "^(pending_verification|active|disabled)$")]
    pub status: &'static str,
    /// Why the platform disabled it (e.g. the receiver answered 410 Gone).
    pub disabled_reason: Option<String>,
    /// The custom headers, values masked (`****` and the last 4 characters of a value of 12 or
    /// more).
    pub headers: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&Subscription> for SubscriptionOut {
    fn from(subscription: &Subscription) -> Self {
        Self {
            id: subscription.id,
            url: subscription.url.clone(),
            event_types: subscription.event_types.clone(),
            description: subscription.description.clone(),
            active: subscription.active,
            status: subscription.status(),
            disabled_reason: subscription.disabled_reason.clone(),
            headers: subscription
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), headers::masked(value)))
                .collect(),
            created_at: subscription.created_at,
            updated_at: subscription.updated_at,
        }
    }
}

/// A new subscription, with the secret its deliveries are signed with.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionWithSecret {
    #[serde(flatten)]
    pub subscription: SubscriptionOut,
    /// `whsec_` + base64 of the key.
    pub secret: String,
}

/// An intent verification was sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationSent {
    pub subscription_id: SubscriptionId,
    /// `pending_verification` until the receiver echoes the challenge.
    pub status: &'static str,
    /// The `webhook.verification` event that carries the challenge.
    pub event_id: crate::model::EventId,
}

/// The current signing secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Secret)]
pub struct SecretOut {
    /// `whsec_` + base64 of the key.
    pub secret: Option<String>,
    /// Until when the previous secret keeps signing beside this one, after a rotation.
    pub previous_secret_expires_at: Option<Timestamp>,
}

/// The data of a `webhook.test` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookTest {
    /// The subscription tested; absent when every subscription of the account was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<SubscriptionId>,
    pub message: &'static str,
}

/// A test event sent to every active subscription.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestSent {
    #[serde(flatten)]
    pub event: super::events::EventAccepted,
    /// The active subscriptions it goes to: the deliveries `fanout` queues.
    pub subscriptions: usize,
}
