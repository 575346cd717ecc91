//! Events (the outbox items) and idempotency keys, listing events (by type: filtered), and
//! replays (`replays.rs`).

use super::calls::store_error;
use super::codec::{event_from_item, item, page_of, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::{AccountId, EventId};
use crate::model::{Event, Page, decode_cursor};
use crate::model::{EventHead, Replay, ReplayPart, Timestamp};
use crate::ports::{EventStore, Idempotency, Published, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use std::collections::HashMap;

impl EventStore for DynamoStore {
    async fn publish(
        &self,
        event: &Event,
        idempotency: Option<Idempotency<'_>>,
    ) -> StoreResult<Published> {
        let mut items = vec![self.outbox_put(event)?];
        if let Some(Idempotency {
            key,
            expires_at,
            fingerprint,
        }) = idempotency
        {
            let record = serde_json::json!({
                "event_id": event.id,
                "expires_at": expires_at,
                "fingerprint": fingerprint,
            });
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
                let Some(idempotency) = idempotency else {
                    return Err(StoreError::Conflict);
                };
                let existing = self
                    .get(
                        &self.data_table,
                        keys::account(event.account_id),
                        keys::idempotency(idempotency.key),
                    )
                    .await?
                    .ok_or(StoreError::Conflict)?;
                let text = |name: &str| existing.get(name).and_then(|v| v.as_s().ok());
                // A key kept before fingerprints were has none: taken as the same request.
                if text("fingerprint").is_some_and(|f| f != idempotency.fingerprint) {
                    return Ok(Published::Reused);
                }
                text("event_id")
                    .and_then(|id| EventId::parse(id))
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
        let mut start = cursor
            .map(|c| {
                decode_cursor(c)
                    .filter(|sk| sk.starts_with(keys::EVENT_PREFIX))
                    .map(|sk| {
                        HashMap::from([
                            ("pk".to_owned(), s(keys::account(account))),
                            ("sk".to_owned(), s(sk)),
                        ])
                    })
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?;
        // By type: the account's events filtered, read until the page is full (no index: an
        // index would add a write to every event, and listing by type is rare).
        let mut items = Vec::new();
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.events_table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(keys::account(account)))
                .expression_attribute_values(":prefix", s(keys::EVENT_PREFIX))
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            if let Some(event_type) = event_type {
                query = query
                    .filter_expression("#type = :type")
                    .expression_attribute_names("#type", "type")
                    .expression_attribute_values(":type", s(event_type));
            }
            let output = query.send().await.map_err(|e| store_error(&e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        page_of(items, limit, event_from_item)
    }

    async fn event_heads(
        &self,
        account: &AccountId,
        since: Timestamp,
        until: Timestamp,
        keep: &(dyn Fn(&EventHead) -> bool + Sync),
        limit: usize,
    ) -> StoreResult<Vec<EventHead>> {
        self.window_heads(account, since, until, keep, limit).await
    }

    async fn start_replay(
        &self,
        replay: &Replay,
        parts: &[ReplayPart],
    ) -> StoreResult<Option<Replay>> {
        self.write_replay(replay, parts).await
    }
}
