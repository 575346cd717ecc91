//! An account's API keys: what is kept of each (never the key itself, only its SHA-256).

use super::ids::{AccountId, ApiKeyId};
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One API key of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub account_id: AccountId,
    pub name: String,
    /// The key's first characters, to tell keys apart (`rhk_` and 8 more).
    pub prefix: String,
    /// SHA-256 of the key, hex.
    pub key_hash: String,
    pub created_at: Timestamp,
    /// To within a minute (each container notes a key's use once a minute at most).
    #[serde(default)]
    pub last_used_at: Option<Timestamp>,
}

/// Whom an accepted key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyOwner {
    pub account_id: AccountId,
    /// `None` for a key made before keys had ids (it is not listed, and cannot be revoked).
    pub key_id: Option<ApiKeyId>,
}
