//! Accounts and their API keys (by hash).

use super::calls::put;
use super::codec::item;
use super::keys;
use super::store::DynamoStore;
use crate::model::Account;
use crate::model::AccountId;
use crate::ports::{AccountStore, StoreError, StoreResult};

impl AccountStore for DynamoStore {
    async fn create_account(&self, account: &Account, key_hash: &str) -> StoreResult<()> {
        let account_item = item(
            account,
            keys::account(account.id),
            keys::ACCOUNT_SK.into(),
            "account",
        )?;
        let key_item = item(
            &serde_json::json!({"account_id": account.id}),
            keys::api_key(key_hash),
            keys::API_KEY_SK.into(),
            "api_key",
        )?;
        let items = vec![
            put(
                &self.data_table,
                account_item,
                Some("attribute_not_exists(pk)"),
            )?,
            put(&self.data_table, key_item, Some("attribute_not_exists(pk)"))?,
        ];
        self.transact(items, |_| StoreError::Conflict).await
    }

    async fn account_for_key(&self, key_hash: &str) -> StoreResult<Option<AccountId>> {
        let item = self
            .get(
                &self.data_table,
                keys::api_key(key_hash),
                keys::API_KEY_SK.into(),
            )
            .await?;
        Ok(item.and_then(|i| {
            i.get("account_id")
                .and_then(|v| v.as_s().ok())
                .and_then(|text| AccountId::parse(text))
        }))
    }
}
