//! Accounts (admin).

use crate::model::AccountId;
use crate::model::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Trimmed; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

/// A new account with its API key: the only time the key is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountWithKey {
    pub id: AccountId,
    pub name: String,
    pub created_at: Timestamp,
    /// `rhk_…`; keep it secret. Only its hash is stored.
    pub api_key: String,
}
