//! Who is calling, and accounts (admin).

use super::auth::Caller;
use super::base::Api;
use super::wire::{AccountWithKey, NewAccount};
use crate::api::error::{ApiError, ApiResult};
use crate::domain::secrets;
use crate::model::{Account, now};
use crate::model::{AccountId, ApiKey, ApiKeyId, KeyOwner};
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// Who an `Authorization` header belongs to ([`super::auth::authenticate`]).
    ///
    /// # Errors
    /// `Unauthorized` when it is missing, not `Bearer`, or matches no key.
    pub async fn authenticate(&self, authorization: Option<&str>) -> ApiResult<Caller> {
        // A request with no key is refused before the admin key is looked at (or read).
        if super::auth::bearer_key(authorization).is_none() {
            return Err(ApiError::Unauthorized);
        }
        let admin_key = self.admin_key.get().await?;
        let (caller, key) =
            super::auth::authenticate_key(&self.store, admin_key, authorization).await?;
        if let Some(KeyOwner {
            account_id,
            key_id: Some(key_id),
        }) = key
        {
            self.note_key_use(&account_id, key_id).await;
        }
        Ok(caller)
    }

    /// Notes a key's use, once a minute per container at most; a failure is logged only.
    async fn note_key_use(&self, account: &AccountId, key: ApiKeyId) {
        if !self.key_uses.due(&key) {
            return;
        }
        match self.store.note_key_use(account, &key, now()).await {
            Ok(()) => self.key_uses.done(key),
            Err(error) => tracing::warn!(%error, "noting an API key's use failed"),
        }
    }

    /// The caller of a request. The admin API Gateway's authorizer vouched for is taken as is;
    /// an account key is looked up again (a revoked key or a disabled account is refused at
    /// once, whatever the gateway cached), and must be the account vouched for, if any.
    ///
    /// # Errors
    /// As [`Api::authenticate`].
    pub async fn identify(
        &self,
        vouched: Option<Caller>,
        authorization: Option<&str>,
    ) -> ApiResult<Caller> {
        if vouched == Some(Caller::Admin) {
            return Ok(Caller::Admin);
        }
        let caller = self.authenticate(authorization).await?;
        match vouched {
            Some(vouched) if vouched != caller => Err(ApiError::Unauthorized),
            _ => Ok(caller),
        }
    }

    /// Creates an account; returns it with its API key (the only time the key is shown).
    ///
    /// # Errors
    /// Invalid name; storage failure.
    pub async fn create_account(&self, input: NewAccount) -> ApiResult<AccountWithKey> {
        let name = crate::domain::text::name(&input.name)
            .map_err(|rule| ApiError::invalid("name", rule))?;
        let account = Account {
            id: AccountId::new(),
            name,
            created_at: now(),
            disabled: false,
        };
        let (key, stored) = new_key(account.id, "default".into());
        self.store.create_account(&account, &stored).await?;
        Ok(AccountWithKey {
            id: account.id,
            name: account.name,
            created_at: account.created_at,
            api_key: key,
        })
    }
}

/// A new key of the account: the key itself (shown once) and what is kept of it.
pub(crate) fn new_key(account: AccountId, name: String) -> (String, ApiKey) {
    let key = secrets::new_api_key();
    let stored = ApiKey {
        id: ApiKeyId::new(),
        account_id: account,
        name,
        prefix: key.chars().take(KEY_PREFIX_CHARS).collect(),
        key_hash: secrets::api_key_hash(&key),
        created_at: now(),
        last_used_at: None,
    };
    (key, stored)
}

/// How much of a key its listing shows: `rhk_` and 8 characters (48 of its 256 random bits).
const KEY_PREFIX_CHARS: usize = 12;
