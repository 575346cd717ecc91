//! The records the platform keeps, as the API shows them (secrets and password hashes are
//! skipped when serialised for a response by the service, never by accident here).

use serde::{Deserialize, Serialize};

mod api_key;
pub mod delivery;
mod ids;
pub mod operational;
mod portal;
mod replay;
pub mod sample_order;
mod stream_batch;
mod time;

pub use api_key::{ApiKey, KeyOwner};
pub use ids::{AccountId, ApiKeyId, EventId, IdError, SubscriptionId, UserId, next_ulid};
pub use portal::{PortalGrant, PortalLink, PortalSession};
pub use replay::{EventHead, Replay, ReplayPart};
pub use stream_batch::{StreamBatch, StreamFailure};
pub use time::{Timestamp, TimestampError};

/// Now (see [`Timestamp`]).
#[must_use]
pub fn now() -> Timestamp {
    Timestamp::now()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub created_at: Timestamp,
    /// Set by the admin: none of the account's keys is accepted.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    pub photo_id: String,
    pub likes: u64,
}

/// One secret a subscription's deliveries are signed with. The newest has no `expires_at`;
/// after a rotation the previous one keeps signing until its `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecret {
    pub secret: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub account_id: AccountId,
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub active: bool,
    /// Newest first.
    pub secrets: Vec<SigningSecret>,
    #[serde(default)]
    pub disabled_reason: Option<String>,
    /// Set while the subscription waits for its receiver to prove intent (it is then inactive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Sent with every delivery, as set (see [`crate::domain::headers`]): credentials, never
    /// logged, shown masked.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An intent verification under way: the challenge the receiver must echo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub challenge: String,
    pub requested_at: Timestamp,
}

impl Subscription {
    /// `pending_verification`, `active` or `disabled`.
    #[must_use]
    pub fn status(&self) -> &'static str {
        if self.verification.is_some() {
            "pending_verification"
        } else if self.active {
            "active"
        } else {
            "disabled"
        }
    }

    /// The secret new deliveries are signed with first.
    #[must_use]
    pub fn current_secret(&self) -> Option<&str> {
        self.secrets.first().map(|s| s.secret.as_str())
    }
}

/// An event: something happened in an account that subscribers may be told about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub account_id: AccountId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: Timestamp,
    pub data: serde_json::Value,
    /// Set for `webhook.test`: only this subscription receives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<SubscriptionId>,
}

impl Event {
    /// The event as the API shows it and as the webhook body carries it.
    #[must_use]
    pub fn representation(&self) -> EventBody {
        EventBody {
            id: self.id,
            event_type: self.event_type.clone(),
            created_at: self.created_at,
            data: self.data.clone(),
        }
    }
}

/// An event type an account's events had, with when it was first and last seen (by fan-out,
/// `last_seen` to within a minute: see `delivery::catalog`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenEventType {
    pub account_id: AccountId,
    pub event_type: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// An event as the API shows it, and the body of every webhook: `{"id","type","created_at","data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Event)]
pub struct EventBody {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: Timestamp,
    /// What happened; its shape depends on the type.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque; pass back as `?cursor=` for the next page. `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The longest key a cursor stands for, in bytes.
pub const MAX_CURSOR_KEY: usize = 200;
/// The longest cursor: [`MAX_CURSOR_KEY`] bytes in unpadded base64url.
pub const MAX_CURSOR_LEN: usize = (MAX_CURSOR_KEY * 4).div_ceil(3);

/// Cursors are the last key of a page, base64url, so they are opaque to callers and carry no
/// account (the account always comes from the caller's key).
#[must_use]
pub fn encode_cursor(last_key: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last_key)
}

/// The key a cursor stands for, if it is one we could have handed out.
#[must_use]
pub fn decode_cursor(cursor: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes)
        .ok()
        .filter(|key| !key.is_empty() && key.len() <= MAX_CURSOR_KEY)
}
