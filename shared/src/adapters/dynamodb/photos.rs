//! Photos and their like counts (optimistic: the count read is the condition), with the event.

use super::codec::{record, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::AccountId;
use crate::model::{Event, Photo};
use crate::ports::{PhotoStore, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

impl PhotoStore for DynamoStore {
    async fn get_photo(&self, account: &AccountId, photo_id: &str) -> StoreResult<Option<Photo>> {
        let item = self
            .get(
                &self.data_table,
                keys::account(account),
                keys::photo(photo_id),
            )
            .await?;
        item.map(record).transpose()
    }

    async fn like_photo(
        &self,
        account: &AccountId,
        photo_id: &str,
        expected: u64,
        event: &Event,
    ) -> StoreResult<()> {
        let update = Update::builder()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::photo(photo_id)))
            .update_expression("SET likes = :next, photo_id = :id, entity = :entity")
            .condition_expression(if expected == 0 {
                "attribute_not_exists(likes) OR likes = :expected"
            } else {
                "likes = :expected"
            })
            .expression_attribute_values(":next", AttributeValue::N((expected + 1).to_string()))
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .expression_attribute_values(":id", s(photo_id))
            .expression_attribute_values(":entity", s("photo"))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.outbox_put(event)?,
        ];
        self.transact(items, |_| StoreError::Conflict).await
    }
}
