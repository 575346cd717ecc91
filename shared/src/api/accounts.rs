//! Who is calling, and accounts (admin).

use super::auth::Caller;
use super::base::Api;
use super::wire::{AccountWithKey, NewAccount};
use crate::api::error::{ApiError, ApiResult};
use crate::domain::secrets;
use crate::model::AccountId;
use crate::model::{Account, now};
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
        super::auth::authenticate(&self.store, admin_key, authorization).await
    }

    /// The caller of a request: the one API Gateway's authorizer vouched for, else (a direct
    /// invocation) the one its `Authorization` header names.
    ///
    /// # Errors
    /// As [`Api::authenticate`] when nothing vouched for the caller.
    pub async fn identify(
        &self,
        vouched: Option<Caller>,
        authorization: Option<&str>,
    ) -> ApiResult<Caller> {
        match vouched {
            Some(caller) => Ok(caller),
            None => self.authenticate(authorization).await,
        }
    }

    /// Creates an account; returns it with its API key (the only time the key is shown).
    ///
    /// # Errors
    /// Invalid name; storage failure.
    pub async fn create_account(&self, input: NewAccount) -> ApiResult<AccountWithKey> {
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::invalid("name", "must be 1 to 100 characters"));
        }
        let account = Account {
            id: AccountId::new(),
            name,
            created_at: now(),
        };
        let key = secrets::new_api_key();
        self.store
            .create_account(&account, &secrets::api_key_hash(&key))
            .await?;
        Ok(AccountWithKey {
            id: account.id,
            name: account.name,
            created_at: account.created_at,
            api_key: key,
        })
    }
}
