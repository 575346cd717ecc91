//! An account's API keys (create, list, revoke) and the admin's switch on an account.

use super::accounts::new_key;
use super::base::{Api, PageRequest};
use super::wire::{AccountChanges, AccountOut, ApiKeyOut, ApiKeyWithSecret, NewApiKey, PageOut};
use crate::api::error::{ApiError, ApiResult};
use crate::model::{AccountId, ApiKeyId};
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use crate::ports::{StoreError, Stores};

use crate::domain::secrets::MAX_API_KEYS as MAX_KEYS;

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// A new key of the account, shown this once.
    ///
    /// # Errors
    /// Invalid name (422); the account holds [`MAX_KEYS`] already (409); storage failure.
    pub async fn create_api_key(
        &self,
        account: &AccountId,
        input: NewApiKey,
    ) -> ApiResult<ApiKeyWithSecret> {
        let name = crate::domain::text::name(&input.name)
            .map_err(|rule| ApiError::invalid("name", rule))?;
        let held = self.store.list_api_keys(account, MAX_KEYS, None).await?;
        if held.items.len() >= MAX_KEYS {
            return Err(ApiError::Conflict(format!(
                "an account holds at most {MAX_KEYS} keys: revoke one first"
            )));
        }
        let (key, stored) = new_key(*account, name);
        self.store.create_api_key(&stored).await?;
        Ok(ApiKeyWithSecret {
            key: stored.into(),
            api_key: key,
        })
    }

    /// The account's keys, oldest first.
    ///
    /// # Errors
    /// A forged cursor; storage failure.
    pub async fn list_api_keys(
        &self,
        account: &AccountId,
        page: PageRequest,
    ) -> ApiResult<PageOut<ApiKeyOut>> {
        let found = self
            .store
            .list_api_keys(account, page.limit, page.cursor.as_deref())
            .await?;
        Ok(PageOut::of(found, ApiKeyOut::from))
    }

    /// Revokes a key: it is refused from the next request on.
    ///
    /// # Errors
    /// No such key (404); it is the account's last (409: the account would be locked out);
    /// storage failure.
    pub async fn revoke_api_key(&self, account: &AccountId, id: &ApiKeyId) -> ApiResult<()> {
        let held = self.store.list_api_keys(account, 2, None).await?;
        if let [only] = held.items.as_slice()
            && only.id == *id
        {
            return Err(ApiError::Conflict(
                "this is the account's last key: create another first".into(),
            ));
        }
        match self.store.revoke_api_key(account, id).await {
            Err(StoreError::NotFound) => Err(ApiError::NotFound("API key")),
            other => Ok(other?),
        }
    }

    /// Disables or enables an account (admin): while disabled, none of its keys is accepted.
    ///
    /// # Errors
    /// No such account (404); a key revoked meanwhile (409, try again); storage failure.
    pub async fn update_account(
        &self,
        account: &AccountId,
        changes: AccountChanges,
    ) -> ApiResult<AccountOut> {
        match self
            .store
            .set_account_disabled(account, changes.disabled)
            .await
        {
            Ok(account) => Ok(account.into()),
            Err(StoreError::NotFound) => Err(ApiError::NotFound("account")),
            Err(other) => Err(other.into()),
        }
    }
}
