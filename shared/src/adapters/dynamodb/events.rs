//! Events (the outbox items) and idempotency keys, and listing events by type on `gsi1`.

use super::calls::store_error;
use super::codec::{event_from_item, item, page_of, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::{AccountId, EventId};
use crate::model::{Event, Page, decode_cursor};
use crate::ports::{EventStore, Published, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use std::collections::HashMap;

impl EventStore for DynamoStore {
    async fn publish(
        &self,
        event: &Event,
        idempotency_key: Option<(&str, i64)>,
    ) -> StoreResult<Published> {
        let mut items = vec![self.outbox_put(event)?];
        if let Some((key, expires_at)) = idempotency_key {
            let record = serde_json::json!({"event_id": event.id, "expires_at": expires_at});
            let record = item(
                &record,
                keys::account(event.account_id),
                keys::idempotency(key),
                "idempotency",
            )?;
            let put = Put::builder()
                .table_name(&self.data_table)
                .set_item(Some(record))
                .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(chrono::Utc::now().timestamp().to_string()),
                )
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self.transact(items, |_| StoreError::Conflict).await {
            Ok(()) => Ok(Published::Created),
            Err(StoreError::Conflict) => {
                let Some((key, _)) = idempotency_key else {
                    return Err(StoreError::Conflict);
                };
                let existing = self
                    .get(
                        &self.data_table,
                        keys::account(event.account_id),
                        keys::idempotency(key),
                    )
                    .await?;
                existing
                    .and_then(|i| {
                        i.get("event_id")
                            .and_then(|v| v.as_s().ok())
                            .and_then(|text| EventId::parse(text))
                    })
                    .map(Published::Existing)
                    .ok_or(StoreError::Conflict)
            }
            Err(other) => Err(other),
        }
    }

    async fn get_event(&self, account: &AccountId, id: &EventId) -> StoreResult<Option<Event>> {
        self.get(&self.events_table, keys::account(account), keys::event(id))
            .await?
            .map(event_from_item)
            .transpose()
    }

    async fn list_events(
        &self,
        account: &AccountId,
        event_type: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Event>> {
        let sk = cursor
            .map(|c| {
                decode_cursor(c)
                    .filter(|sk| sk.starts_with(keys::EVENT_PREFIX))
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.events_table)
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        match event_type {
            Some(event_type) => {
                let partition = keys::events_of_type(account, event_type);
                query = query
                    .index_name("gsi1")
                    .key_condition_expression("gsi1pk = :pk")
                    .expression_attribute_values(":pk", s(partition.clone()));
                if let Some(sk) = sk {
                    query = query.set_exclusive_start_key(Some(HashMap::from([
                        ("pk".to_owned(), s(keys::account(account))),
                        ("sk".to_owned(), s(sk.clone())),
                        ("gsi1pk".to_owned(), s(partition)),
                        ("gsi1sk".to_owned(), s(sk)),
                    ])));
                }
            }
            None => {
                query = query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", s(keys::account(account)))
                    .expression_attribute_values(":prefix", s(keys::EVENT_PREFIX))
                    .consistent_read(true);
                if let Some(sk) = sk {
                    query = query.set_exclusive_start_key(Some(HashMap::from([
                        ("pk".to_owned(), s(keys::account(account))),
                        ("sk".to_owned(), s(sk)),
                    ])));
                }
            }
        }
        let output = query.send().await.map_err(|e| store_error(&e))?;
        page_of(output.items.unwrap_or_default(), limit, event_from_item)
    }
}
