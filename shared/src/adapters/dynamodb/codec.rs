//! Records as items and back: keys and entity name added on the way in, the event item of the
//! outbox (its payload kept as JSON text), pages with their cursor.

use super::keys;
use crate::model::{AccountId, EventId, SubscriptionId};
use crate::model::{Event, Page, Timestamp, encode_cursor};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// The attribute holding an item's expiry (unix seconds): the tables' TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// How long an event is kept (and so can be fetched, listed and resent).
pub const EVENT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A record as an item, with its keys and entity name.
pub(super) fn item<T: Serialize>(
    record: &T,
    pk: String,
    sk: String,
    entity: &str,
) -> StoreResult<Item> {
    let mut item: Item = serde_dynamo::to_item(record)
        .map_err(|e| StoreError::Backend(format!("serialise {entity}: {e}")))?;
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("entity".into(), s(entity));
    Ok(item)
}

/// An item's (`pk`, `sk`).
pub(super) fn item_key(item: &Item) -> (String, String) {
    let key = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    (key("pk"), key("sk"))
}

pub(super) fn record<T: DeserializeOwned>(item: Item) -> StoreResult<T> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Backend(format!("deserialise: {e}")))
}

/// A page from up to `limit + 1` items read: the extra one only says there is more, and the
/// cursor is the sort key of the last item kept.
pub(super) fn page_of<T>(
    mut items: Vec<Item>,
    limit: usize,
    decode: impl Fn(Item) -> StoreResult<T>,
) -> StoreResult<Page<T>> {
    let more = items.len() > limit;
    items.truncate(limit);
    let next_cursor = if more {
        items
            .last()
            .and_then(|i| i.get("sk"))
            .and_then(|v| v.as_s().ok())
            .map(|sk| encode_cursor(sk))
    } else {
        None
    };
    let items = items
        .into_iter()
        .map(decode)
        .collect::<StoreResult<Vec<T>>>()?;
    Ok(Page { items, next_cursor })
}

/// The event item of the outbox.
pub(super) fn event_item(event: &Event) -> StoreResult<Item> {
    #[derive(Serialize)]
    struct Stored<'a> {
        id: &'a EventId,
        account_id: &'a AccountId,
        #[serde(rename = "type")]
        event_type: &'a str,
        created_at: &'a Timestamp,
        /// JSON text: arbitrary payloads survive DynamoDB's type system unchanged.
        data: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        subscription_id: Option<&'a SubscriptionId>,
        expires_at: i64,
    }
    let stored = Stored {
        id: &event.id,
        account_id: &event.account_id,
        event_type: &event.event_type,
        created_at: &event.created_at,
        data: event.data.to_string(),
        subscription_id: event.subscription_id.as_ref(),
        expires_at: chrono::Utc::now().timestamp() + EVENT_RETENTION_SECONDS,
    };
    item(
        &stored,
        keys::account(event.account_id),
        keys::event(event.id),
        "event",
    )
}

/// An event back from its item (also what `fanout` reads from a stream image).
///
/// # Errors
/// The item is not an event item.
pub fn event_from_item(item: impl Into<serde_dynamo::Item>) -> StoreResult<Event> {
    #[derive(serde::Deserialize)]
    struct Stored {
        id: EventId,
        account_id: AccountId,
        #[serde(rename = "type")]
        event_type: String,
        created_at: Timestamp,
        data: String,
        #[serde(default)]
        subscription_id: Option<SubscriptionId>,
    }
    let stored: Stored = serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Backend(format!("deserialise event: {e}")))?;
    let data = serde_json::from_str(&stored.data)
        .map_err(|e| StoreError::Backend(format!("event data: {e}")))?;
    Ok(Event {
        id: stored.id,
        account_id: stored.account_id,
        event_type: stored.event_type,
        created_at: stored.created_at,
        data,
        subscription_id: stored.subscription_id,
    })
}
