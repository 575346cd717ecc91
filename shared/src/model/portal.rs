//! The portal's grants: a one-time link an account hands to one of its customers, and the
//! browser session that opening it starts.

use super::ids::{AccountId, SubscriptionId};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What a portal link or session may see and do: one account, and within it every subscription
/// or only some (a customer's own endpoints), until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalGrant {
    pub account_id: AccountId,
    /// `None`: every subscription of the account, and creating new ones. `Some`: only these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriptions: Option<Vec<SubscriptionId>>,
    pub expires_at: Timestamp,
}

impl PortalGrant {
    /// Whether the grant covers the subscription.
    #[must_use]
    pub fn covers(&self, subscription: &SubscriptionId) -> bool {
        self.subscriptions
            .as_ref()
            .is_none_or(|allowed| allowed.contains(subscription))
    }

    /// Whether the grant covers the whole account (it may create subscriptions).
    #[must_use]
    pub const fn is_whole_account(&self) -> bool {
        self.subscriptions.is_none()
    }

    /// Whether it has expired at `now`.
    #[must_use]
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }
}

/// A one-time link: whom it lets in (`grant.expires_at` is the link's own expiry) and for how
/// long the session it starts lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalLink {
    pub grant: PortalGrant,
    pub session_seconds: u32,
}

/// A signed-in browser: its grant and the token every form it posts must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalSession {
    pub grant: PortalGrant,
    pub csrf_token: String,
}
