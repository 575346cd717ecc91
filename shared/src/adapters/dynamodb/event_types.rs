//! The event types each account's events had: one item per type in the data table, written by
//! fan-out with a conditional update (the last sighting only moves forward).

use super::calls::written;
use super::codec::s;
use super::keys;
use super::store::DynamoStore;
use crate::model::{AccountId, Page, SeenEventType};
use crate::ports::{EventTypeStore, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;

impl EventTypeStore for DynamoStore {
    async fn note_event_type(&self, seen: &SeenEventType) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(seen.account_id)))
            .key("sk", s(keys::event_type(&seen.event_type)))
            .update_expression(
                "SET entity = :entity, account_id = :account, event_type = :type, \
                 first_seen = if_not_exists(first_seen, :first), last_seen = :last, \
                 last_seen_ms = :last_ms",
            )
            // A sighting older than the stored one changes nothing.
            .condition_expression("attribute_not_exists(last_seen_ms) OR last_seen_ms < :last_ms")
            .expression_attribute_values(":entity", s("event_type"))
            .expression_attribute_values(":account", s(seen.account_id.to_string()))
            .expression_attribute_values(":type", s(seen.event_type.clone()))
            .expression_attribute_values(":first", s(seen.first_seen.to_string()))
            .expression_attribute_values(":last", s(seen.last_seen.to_string()))
            .expression_attribute_values(
                ":last_ms",
                AttributeValue::N(seen.last_seen.unix_millis().to_string()),
            )
            .send()
            .await;
        // Not written: a later sighting is already stored, which is the aim.
        written(result).map(|_| ())
    }

    async fn list_event_types(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<SeenEventType>> {
        self.query_page(account, keys::EVENT_TYPE_PREFIX, None, limit, cursor, true)
            .await
    }
}
