//! Accounts (admin).

use crate::model::AccountId;
use crate::model::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Trimmed; 1 to 100 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
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

/// What the admin may change of an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountChanges {
    /// `true`: every key of the account is refused from the next request on; `false`: accepted
    /// again.
    pub disabled: bool,
}

/// An account as the admin sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Account)]
pub struct AccountOut {
    pub id: AccountId,
    pub name: String,
    pub created_at: Timestamp,
    pub disabled: bool,
}

impl From<crate::model::Account> for AccountOut {
    fn from(account: crate::model::Account) -> Self {
        Self {
            id: account.id,
            name: account.name,
            created_at: account.created_at,
            disabled: account.disabled,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for; trimmed, 1 to 100 characters, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
}

/// An API key as listings show it: never the key.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyOut {
    pub id: crate::model::ApiKeyId,
    pub name: String,
    /// The key's first 12 characters, to tell keys apart.
    pub prefix: String,
    pub created_at: Timestamp,
    /// To within a minute; `null` until the key is used.
    #[schema(required = true)]
    pub last_used_at: Option<Timestamp>,
}

impl From<crate::model::ApiKey> for ApiKeyOut {
    fn from(key: crate::model::ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
        }
    }
}

/// A new API key: the only time the key is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyWithSecret {
    #[serde(flatten)]
    pub key: ApiKeyOut,
    /// `rhk_…`; keep it secret. Only its hash is stored.
    pub api_key: String,
}
