//! Accounts and their API keys in memory.

use super::{MemoryStore, page};
use crate::adapters::dynamodb::keys;
use crate::model::{Account, AccountId, ApiKey, ApiKeyId, KeyOwner, Page, Timestamp};
use crate::ports::{AccountStore, StoreError, StoreResult};

/// The sort key the DynamoDB adapter keeps a key's record under, for the same cursors.
fn key_sort(id: &ApiKeyId) -> String {
    keys::api_key_record(id)
}

impl AccountStore for MemoryStore {
    async fn create_account(&self, account: &Account, key: &ApiKey) -> StoreResult<()> {
        let mut state = self.lock();
        if state.accounts.contains_key(&account.id) || state.keys.contains_key(&key.key_hash) {
            return Err(StoreError::Conflict);
        }
        state.accounts.insert(account.id, account.clone());
        state
            .keys
            .insert(key.key_hash.clone(), (account.id, key.id));
        state.api_keys.insert((account.id, key.id), key.clone());
        Ok(())
    }

    async fn account_for_key(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
        let state = self.lock();
        Ok(state.keys.get(key_hash).and_then(|(account, key)| {
            let enabled = state.accounts.get(account).is_some_and(|a| !a.disabled);
            enabled.then_some(KeyOwner {
                account_id: *account,
                key_id: Some(*key),
            })
        }))
    }

    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        let mut state = self.lock();
        if state.keys.contains_key(&key.key_hash) {
            return Err(StoreError::Conflict);
        }
        state
            .keys
            .insert(key.key_hash.clone(), (key.account_id, key.id));
        state.api_keys.insert((key.account_id, key.id), key.clone());
        Ok(())
    }

    async fn list_api_keys(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<ApiKey>> {
        let state = self.lock();
        let mine = state
            .api_keys
            .iter()
            .filter(|((owner, _), _)| owner == account)
            .map(|((_, id), key)| (key_sort(id), key.clone()));
        page(mine, keys::API_KEY_RECORD_PREFIX, limit, cursor, false)
    }

    async fn revoke_api_key(&self, account: &AccountId, id: &ApiKeyId) -> StoreResult<()> {
        let mut state = self.lock();
        let key = state
            .api_keys
            .remove(&(*account, *id))
            .ok_or(StoreError::NotFound)?;
        state.keys.remove(&key.key_hash);
        Ok(())
    }

    async fn note_key_use(
        &self,
        account: &AccountId,
        id: &ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<()> {
        if let Some(key) = self.lock().api_keys.get_mut(&(*account, *id)) {
            key.last_used_at = Some(at);
        }
        Ok(())
    }

    async fn set_account_disabled(
        &self,
        account: &AccountId,
        disabled: bool,
    ) -> StoreResult<Account> {
        let mut state = self.lock();
        let found = state
            .accounts
            .get_mut(account)
            .ok_or(StoreError::NotFound)?;
        found.disabled = disabled;
        Ok(found.clone())
    }
}
