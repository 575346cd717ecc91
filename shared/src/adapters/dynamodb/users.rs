//! Users, with their username's uniqueness item and the event of each change, in one transaction.

use super::calls::{delete, put};
use super::codec::{Item, item, record, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::{AccountId, UserId};
use crate::model::{Event, Page, User};
use crate::ports::{StoreError, StoreResult, UserStore};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

fn username_item(account: &AccountId, user: &User) -> StoreResult<Item> {
    item(
        &serde_json::json!({"user_id": user.id}),
        keys::account(account),
        keys::username(&user.username),
        "username",
    )
}

impl UserStore for DynamoStore {
    async fn create_user(
        &self,
        user: &User,
        account: &AccountId,
        event: &Event,
    ) -> StoreResult<()> {
        let items = vec![
            put(
                &self.data_table,
                username_item(account, user)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(
                &self.data_table,
                item(user, keys::account(account), keys::user(user.id), "user")?,
                Some("attribute_not_exists(pk)"),
            )?,
            self.outbox_put(event)?,
        ];
        self.transact(items, |_| StoreError::Conflict).await
    }

    async fn get_user(&self, account: &AccountId, id: &UserId) -> StoreResult<Option<User>> {
        self.get(&self.data_table, keys::account(account), keys::user(id))
            .await?
            .map(record)
            .transpose()
    }

    async fn list_users(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<User>> {
        self.query_page(account, keys::USER_PREFIX, None, limit, cursor, true)
            .await
    }

    async fn update_user(
        &self,
        account: &AccountId,
        previous: &User,
        updated: &User,
        event: &Event,
    ) -> StoreResult<()> {
        // The user item must still be the one read (same updated_at): concurrent updates conflict.
        let user_item = item(
            updated,
            keys::account(account),
            keys::user(updated.id),
            "user",
        )?;
        let user_put = Put::builder()
            .table_name(&self.data_table)
            .set_item(Some(user_item))
            .condition_expression("attribute_exists(pk) AND updated_at = :seen")
            .expression_attribute_values(":seen", s(previous.updated_at.to_string()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().put(user_put).build()];
        if previous.username.to_lowercase() != updated.username.to_lowercase() {
            items.push(delete(
                &self.data_table,
                keys::account(account),
                keys::username(&previous.username),
                None,
            )?);
            items.push(put(
                &self.data_table,
                username_item(account, updated)?,
                Some("attribute_not_exists(pk)"),
            )?);
        }
        items.push(self.outbox_put(event)?);
        let gone = self.get(
            &self.data_table,
            keys::account(account),
            keys::user(previous.id),
        );
        match self.transact(items, |_| StoreError::Conflict).await {
            Err(StoreError::Conflict) if gone.await?.is_none() => Err(StoreError::NotFound),
            other => other,
        }
    }

    async fn delete_user(
        &self,
        account: &AccountId,
        user: &User,
        event: &Event,
    ) -> StoreResult<()> {
        let items = vec![
            delete(
                &self.data_table,
                keys::account(account),
                keys::user(user.id),
                Some("attribute_exists(pk)"),
            )?,
            delete(
                &self.data_table,
                keys::account(account),
                keys::username(&user.username),
                None,
            )?,
            self.outbox_put(event)?,
        ];
        self.transact(items, |index| {
            if index == 0 {
                StoreError::NotFound
            } else {
                StoreError::Conflict
            }
        })
        .await
    }
}
