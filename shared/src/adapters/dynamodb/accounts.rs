//! Accounts and their API keys. A key is two items: `KEY#<hash>` (what a request's key is
//! looked up by: its account, its id, whether it is refused) and its record in the account's
//! partition (`APIKEY#<id>`: name, prefix, hash, last use). Revoking deletes both; disabling an
//! account marks it and every key item, in one transaction.

use super::calls::{put, written};
use super::codec::{Item, item, record, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::{Account, AccountId, ApiKey, ApiKeyId, KeyOwner, Page, Timestamp};
use crate::ports::{AccountStore, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use crate::domain::secrets::MAX_API_KEYS;

fn builder_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

impl DynamoStore {
    /// The account's item, as it is now (a strong read).
    pub(super) async fn account(&self, account: &AccountId) -> StoreResult<Option<Account>> {
        let item = self
            .get(
                &self.data_table,
                keys::account(account),
                keys::ACCOUNT_SK.into(),
            )
            .await?;
        item.map(record).transpose()
    }

    /// A key's two items, each written only if new.
    fn key_puts(&self, key: &ApiKey) -> StoreResult<Vec<TransactWriteItem>> {
        let lookup = item(
            &serde_json::json!({"account_id": key.account_id, "key_id": key.id}),
            keys::api_key(&key.key_hash),
            keys::API_KEY_SK.into(),
            "api_key",
        )?;
        let stored = item(
            key,
            keys::account(key.account_id),
            keys::api_key_record(key.id),
            "api_key_record",
        )?;
        let new = Some("attribute_not_exists(pk)");
        Ok(vec![
            put(&self.data_table, lookup, new)?,
            put(&self.data_table, stored, new)?,
        ])
    }

    async fn key_record(&self, account: &AccountId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        let found = self
            .get(
                &self.data_table,
                keys::account(account),
                keys::api_key_record(id),
            )
            .await?;
        found.map(record).transpose()
    }
}

impl AccountStore for DynamoStore {
    async fn create_account(&self, account: &Account, key: &ApiKey) -> StoreResult<()> {
        let account_item = item(
            account,
            keys::account(account.id),
            keys::ACCOUNT_SK.into(),
            "account",
        )?;
        let mut items = vec![put(
            &self.data_table,
            account_item,
            Some("attribute_not_exists(pk)"),
        )?];
        items.extend(self.key_puts(key)?);
        self.transact(items, |_| StoreError::Conflict).await
    }

    async fn account_for_key(&self, key_hash: &str) -> StoreResult<Option<KeyOwner>> {
        let item: Option<Item> = self
            .get(
                &self.data_table,
                keys::api_key(key_hash),
                keys::API_KEY_SK.into(),
            )
            .await?;
        Ok(item.and_then(|i| {
            let text = |name: &str| i.get(name).and_then(|v| v.as_s().ok());
            let disabled = i.get("disabled").and_then(|v| v.as_bool().ok()) == Some(&true);
            let account_id = text("account_id").and_then(|t| AccountId::parse(t))?;
            (!disabled).then(|| KeyOwner {
                account_id,
                key_id: text("key_id").and_then(|t| ApiKeyId::parse(t)),
            })
        }))
    }

    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.transact(self.key_puts(key)?, |_| StoreError::Conflict)
            .await
    }

    async fn list_api_keys(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<ApiKey>> {
        self.query_page(
            account,
            keys::API_KEY_RECORD_PREFIX,
            None,
            limit,
            cursor,
            true,
        )
        .await
    }

    async fn revoke_api_key(&self, account: &AccountId, id: &ApiKeyId) -> StoreResult<()> {
        let key = self
            .key_record(account, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let delete = |pk: String, sk: String| {
            Delete::builder()
                .table_name(&self.data_table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
                .map_err(builder_error)
        };
        let items = vec![
            delete(keys::account(account), keys::api_key_record(id))?,
            delete(keys::api_key(&key.key_hash), keys::API_KEY_SK.into())?,
        ];
        // Revoked meanwhile by another request: gone either way.
        self.transact(items, |_| StoreError::NotFound).await
    }

    async fn note_key_use(
        &self,
        account: &AccountId,
        id: &ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::api_key_record(id)))
            .update_expression("SET last_used_at = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", s(at.to_string()))
            .send()
            .await;
        written(result).map(|_| ())
    }

    async fn set_account_disabled(
        &self,
        account: &AccountId,
        disabled: bool,
    ) -> StoreResult<Account> {
        let keys_of = self.list_api_keys(account, MAX_API_KEYS, None).await?;
        let flag = AttributeValue::Bool(disabled);
        let update = |pk: String, sk: String| {
            Update::builder()
                .table_name(&self.data_table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .update_expression("SET disabled = :disabled")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":disabled", flag.clone())
                .build()
                .map(|u| TransactWriteItem::builder().update(u).build())
                .map_err(builder_error)
        };
        let mut items = vec![update(keys::account(account), keys::ACCOUNT_SK.into())?];
        for key in &keys_of.items {
            items.push(update(
                keys::api_key(&key.key_hash),
                keys::API_KEY_SK.into(),
            )?);
        }
        // The account gone (first item), or a key revoked meanwhile (later ones): say which.
        self.transact(items, |index| {
            if index == 0 {
                StoreError::NotFound
            } else {
                StoreError::Conflict
            }
        })
        .await?;
        self.account(account).await?.ok_or(StoreError::NotFound)
    }
}
