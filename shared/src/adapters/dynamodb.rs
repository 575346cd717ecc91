//! The ports on DynamoDB. Every change that emits an event is one `TransactWriteItems` with the
//! event item in the events table (the transactional outbox whose stream feeds `fanout`).
//!
//! Data table (`pk`, `sk`):
//! - `ACC#<acc>` / `ACCOUNT`; `KEY#<sha256>` / `KEY` → account id
//! - `ACC#<acc>` / `USER#<usr>`; `ACC#<acc>` / `USERNAME#<lowercase name>` (uniqueness)
//! - `ACC#<acc>` / `PHOTO#<photo id>` (`likes`); `ACC#<acc>` / `SUB#<sub>` (one Query per account
//!   finds every subscription); `ACC#<acc>` / `IDEM#<key>` (`expires_at`, TTL)
//! - Deliveries (TTL 30 days): `ACC#<acc>` / `DLV#<evt>#<sub>` (latest status; one Query per
//!   event), `ATT#<sub>#<time>#<dlv>#<nn>` (the attempt log, newest first per subscription),
//!   `HEALTH#<sub>` (failing since, while deliveries fail). `deliver` reads what a batch needs in
//!   one eventually consistent `BatchGetItem` and writes its statuses and attempts in one
//!   `BatchWriteItem`: about 1 read unit and 2 write units per delivery.
//!
//! Events table: `ACC#<acc>` / `EVT#<evt>` with `entity = "event"` (what the stream filter
//! keeps), index `gsi1` on `ACC#<acc>#TYPE#<type>` / `EVT#<evt>` for listing by type.

use crate::model::{Account, Event, Page, Photo, Subscription, User, decode_cursor, encode_cursor};
use crate::ports::{
    AccountStore, EventStore, PhotoStore, Published, StoreError, StoreResult, SubscriptionStore,
    UserStore,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, PutRequest, TransactWriteItem, Update,
    WriteRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

/// How long an event is kept (and so can be fetched, listed and resent).
pub const EVENT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;
/// The attribute holding an item's expiry (unix seconds): the tables' TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Every port, on the two tables.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    data_table: String,
    events_table: String,
}

impl DynamoStore {
    #[must_use]
    pub fn new(
        client: Client,
        data_table: impl Into<String>,
        events_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            data_table: data_table.into(),
            events_table: events_table.into(),
        }
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn account_pk(account: &str) -> String {
    format!("ACC#{account}")
}

/// A record as an item, with its keys and entity name.
fn item<T: Serialize>(record: &T, pk: String, sk: String, entity: &str) -> StoreResult<Item> {
    let mut item: Item = serde_dynamo::to_item(record)
        .map_err(|e| StoreError::Unavailable(format!("serialise {entity}: {e}")))?;
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("entity".into(), s(entity));
    Ok(item)
}

/// An item's (`pk`, `sk`).
fn item_key(item: &Item) -> (String, String) {
    let key = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    (key("pk"), key("sk"))
}

fn record<T: DeserializeOwned>(item: Item) -> StoreResult<T> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Unavailable(format!("deserialise: {e}")))
}

/// A page from up to `limit + 1` items read: the extra one only says there is more, and the
/// cursor is the sort key of the last item kept.
fn page_of<T>(
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

fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

fn store_error<E, R>(error: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.code() {
        Some(
            "ThrottlingException"
            | "ProvisionedThroughputExceededException"
            | "RequestLimitExceeded"
            | "TransactionConflictException",
        ) => StoreError::Throttled,
        _ => StoreError::Unavailable(error_text(error)),
    }
}

/// The event item of the outbox.
fn event_item(event: &Event) -> StoreResult<Item> {
    #[derive(Serialize)]
    struct Stored<'a> {
        id: &'a str,
        account_id: &'a str,
        #[serde(rename = "type")]
        event_type: &'a str,
        created_at: &'a str,
        /// JSON text: arbitrary payloads survive DynamoDB's type system unchanged.
        data: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        subscription_id: Option<&'a str>,
        gsi1pk: String,
        gsi1sk: String,
        expires_at: i64,
    }
    let stored = Stored {
        id: &event.id,
        account_id: &event.account_id,
        event_type: &event.event_type,
        created_at: &event.created_at,
        data: event.data.to_string(),
        subscription_id: event.subscription_id.as_deref(),
        gsi1pk: format!("ACC#{}#TYPE#{}", event.account_id, event.event_type),
        gsi1sk: format!("EVT#{}", event.id),
        expires_at: chrono::Utc::now().timestamp() + EVENT_RETENTION_SECONDS,
    };
    item(
        &stored,
        account_pk(&event.account_id),
        format!("EVT#{}", event.id),
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
        id: String,
        account_id: String,
        #[serde(rename = "type")]
        event_type: String,
        created_at: String,
        data: String,
        #[serde(default)]
        subscription_id: Option<String>,
    }
    let stored: Stored = serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Unavailable(format!("deserialise event: {e}")))?;
    let data = serde_json::from_str(&stored.data)
        .map_err(|e| StoreError::Unavailable(format!("event data: {e}")))?;
    Ok(Event {
        id: stored.id,
        account_id: stored.account_id,
        event_type: stored.event_type,
        created_at: stored.created_at,
        data,
        subscription_id: stored.subscription_id,
    })
}

fn put(table: &str, item: Item, condition: Option<&str>) -> StoreResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn delete(
    table: &str,
    pk: String,
    sk: String,
    condition: Option<&str>,
) -> StoreResult<TransactWriteItem> {
    let delete = Delete::builder()
        .table_name(table)
        .key("pk", s(pk))
        .key("sk", s(sk))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// Keys per `BatchGetItem` and items per `BatchWriteItem`: DynamoDB's limits.
const MAX_BATCH_GET: usize = 100;
const MAX_BATCH_WRITE: usize = 25;

/// How often a batch call is made for what DynamoDB left unprocessed before giving up
/// (`Throttled`: the caller's message is retried later).
const BATCH_ROUNDS: u32 = 5;

/// Exponential backoff between those calls: 25, 50, 100, 200 ms.
fn batch_backoff(round: u32) -> std::time::Duration {
    std::time::Duration::from_millis(25 << round.min(4))
}

impl DynamoStore {
    /// Runs a transaction; a failed condition on item `i` becomes `on_condition(i)`.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        on_condition: impl Fn(usize) -> StoreError,
    ) -> StoreResult<()> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(error) = result else { return Ok(()) };
        if let Some(service) = error.as_service_error()
            && let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled) =
                service
        {
            let reasons = cancelled.cancellation_reasons();
            if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                return Err(on_condition(index));
            }
            if reasons.iter().any(|r| matches!(r.code(), Some("TransactionConflict" | "ThrottlingError"))) {
                return Err(StoreError::Throttled);
            }
        }
        Err(store_error(&error))
    }

    /// Reads items of both tables with `BatchGetItem` (eventually consistent: half the read
    /// units of a strong read; each key asked once, 100 per call), asking again for keys
    /// DynamoDB leaves unprocessed. Found items by (table, pk, sk).
    async fn get_batch<'k>(
        &self,
        keys: impl Iterator<Item = &'k (String, String, String)>,
    ) -> StoreResult<HashMap<(String, String, String), Item>> {
        let mut unique: Vec<&(String, String, String)> = keys.collect();
        unique.sort();
        unique.dedup();
        let mut found = HashMap::new();
        for chunk in unique.chunks(MAX_BATCH_GET) {
            let mut by_table: HashMap<String, Vec<Item>> = HashMap::new();
            for (table, pk, sk) in chunk {
                by_table
                    .entry(table.clone())
                    .or_default()
                    .push(HashMap::from([
                        ("pk".to_owned(), s(pk)),
                        ("sk".to_owned(), s(sk)),
                    ]));
            }
            let request = by_table
                .into_iter()
                .map(|(table, keys)| {
                    KeysAndAttributes::builder()
                        .set_keys(Some(keys))
                        .build()
                        .map(|keys| (table, keys))
                        .map_err(|e| StoreError::Unavailable(e.to_string()))
                })
                .collect::<StoreResult<HashMap<_, _>>>()?;
            self.get_chunk(request, &mut found).await?;
        }
        Ok(found)
    }

    async fn get_chunk(
        &self,
        mut request: HashMap<String, KeysAndAttributes>,
        found: &mut HashMap<(String, String, String), Item>,
    ) -> StoreResult<()> {
        for round in 0..BATCH_ROUNDS {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            for (table, items) in output.responses.unwrap_or_default() {
                for item in items {
                    let (pk, sk) = item_key(&item);
                    found.insert((table.clone(), pk, sk), item);
                }
            }
            request = output.unprocessed_keys.unwrap_or_default();
            if request.is_empty() {
                return Ok(());
            }
            if round + 1 < BATCH_ROUNDS {
                tokio::time::sleep(batch_backoff(round)).await;
            }
        }
        Err(StoreError::Throttled)
    }

    /// Puts items in the data table with `BatchWriteItem` (25 per call; of items with the same
    /// key only the last, as one call may not name a key twice), again for any left unprocessed.
    async fn write_batch(&self, items: Vec<Item>) -> StoreResult<()> {
        let mut by_key: Vec<((String, String), Item)> = Vec::with_capacity(items.len());
        for item in items {
            let key = item_key(&item);
            by_key.retain(|(k, _)| *k != key);
            by_key.push((key, item));
        }
        let mut requests = by_key
            .into_iter()
            .map(|(_, item)| {
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
                    .map_err(|e| StoreError::Unavailable(e.to_string()))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        while !requests.is_empty() {
            let rest = requests.split_off(requests.len().min(MAX_BATCH_WRITE));
            self.write_chunk(requests).await?;
            requests = rest;
        }
        Ok(())
    }

    async fn write_chunk(&self, mut requests: Vec<WriteRequest>) -> StoreResult<()> {
        for round in 0..BATCH_ROUNDS {
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.data_table, requests)
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            requests = output
                .unprocessed_items
                .and_then(|mut left| left.remove(&self.data_table))
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            if round + 1 < BATCH_ROUNDS {
                tokio::time::sleep(batch_backoff(round)).await;
            }
        }
        Err(StoreError::Throttled)
    }

    async fn get(&self, table: &str, pk: String, sk: String) -> StoreResult<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        Ok(output.item)
    }

    /// One page of a partition's items whose sort key starts with `prefix`, optionally
    /// filtered. Queries until the page is full or the partition ends; the cursor is the last
    /// item returned, so a filter never skips items.
    async fn query_page<T: DeserializeOwned>(
        &self,
        account: &str,
        prefix: &str,
        filter: Option<(&str, Vec<(&str, AttributeValue)>)>,
        limit: usize,
        cursor: Option<&str>,
        forward: bool,
    ) -> StoreResult<Page<T>> {
        let mut start = match cursor {
            None => None,
            Some(cursor) => {
                let sk = decode_cursor(cursor)
                    .filter(|sk| sk.starts_with(prefix))
                    .ok_or(StoreError::InvalidCursor)?;
                Some(HashMap::from([
                    ("pk".to_owned(), s(account_pk(account))),
                    ("sk".to_owned(), s(sk)),
                ]))
            }
        };
        let mut items: Vec<Item> = Vec::new();
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.data_table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(account_pk(account)))
                .expression_attribute_values(":prefix", s(prefix))
                .limit(i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .scan_index_forward(forward)
                .consistent_read(true);
            if let Some((expression, values)) = &filter {
                query = query.filter_expression(*expression);
                for (name, value) in values {
                    query = query.expression_attribute_values(*name, value.clone());
                }
            }
            let output = query.send().await.map_err(|e| store_error(&e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        page_of(items, limit, record)
    }
}

impl AccountStore for DynamoStore {
    async fn create_account(&self, account: &Account, key_hash: &str) -> StoreResult<()> {
        let account_item = item(
            account,
            account_pk(&account.id),
            "ACCOUNT".into(),
            "account",
        )?;
        let key_item = item(
            &serde_json::json!({"account_id": account.id}),
            format!("KEY#{key_hash}"),
            "KEY".into(),
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

    async fn account_for_key(&self, key_hash: &str) -> StoreResult<Option<String>> {
        let item = self
            .get(&self.data_table, format!("KEY#{key_hash}"), "KEY".into())
            .await?;
        Ok(item.and_then(|i| i.get("account_id").and_then(|v| v.as_s().ok()).cloned()))
    }
}

fn username_item(account: &str, user: &User) -> StoreResult<Item> {
    item(
        &serde_json::json!({"user_id": user.id}),
        account_pk(account),
        format!("USERNAME#{}", user.username.to_lowercase()),
        "username",
    )
}

impl UserStore for DynamoStore {
    async fn create_user(&self, user: &User, account: &str, event: &Event) -> StoreResult<()> {
        let items = vec![
            put(
                &self.data_table,
                username_item(account, user)?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(
                &self.data_table,
                item(
                    user,
                    account_pk(account),
                    format!("USER#{}", user.id),
                    "user",
                )?,
                Some("attribute_not_exists(pk)"),
            )?,
            put(
                &self.events_table,
                event_item(event)?,
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        self.transact(items, |_| StoreError::Conflict).await
    }

    async fn get_user(&self, account: &str, id: &str) -> StoreResult<Option<User>> {
        self.get(&self.data_table, account_pk(account), format!("USER#{id}"))
            .await?
            .map(record)
            .transpose()
    }

    async fn list_users(
        &self,
        account: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<User>> {
        self.query_page(account, "USER#", None, limit, cursor, true)
            .await
    }

    async fn update_user(
        &self,
        account: &str,
        previous: &User,
        updated: &User,
        event: &Event,
    ) -> StoreResult<()> {
        // The user item must still be the one read (same updated_at): concurrent updates conflict.
        let user_item = item(
            updated,
            account_pk(account),
            format!("USER#{}", updated.id),
            "user",
        )?;
        let user_put = Put::builder()
            .table_name(&self.data_table)
            .set_item(Some(user_item))
            .condition_expression("attribute_exists(pk) AND updated_at = :seen")
            .expression_attribute_values(":seen", s(previous.updated_at.clone()))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut items = vec![TransactWriteItem::builder().put(user_put).build()];
        if previous.username.to_lowercase() != updated.username.to_lowercase() {
            items.push(delete(
                &self.data_table,
                account_pk(account),
                format!("USERNAME#{}", previous.username.to_lowercase()),
                None,
            )?);
            items.push(put(
                &self.data_table,
                username_item(account, updated)?,
                Some("attribute_not_exists(pk)"),
            )?);
        }
        items.push(put(
            &self.events_table,
            event_item(event)?,
            Some("attribute_not_exists(pk)"),
        )?);
        let gone = self.get(
            &self.data_table,
            account_pk(account),
            format!("USER#{}", previous.id),
        );
        match self.transact(items, |_| StoreError::Conflict).await {
            Err(StoreError::Conflict) if gone.await?.is_none() => Err(StoreError::NotFound),
            other => other,
        }
    }

    async fn delete_user(&self, account: &str, user: &User, event: &Event) -> StoreResult<()> {
        let items = vec![
            delete(
                &self.data_table,
                account_pk(account),
                format!("USER#{}", user.id),
                Some("attribute_exists(pk)"),
            )?,
            delete(
                &self.data_table,
                account_pk(account),
                format!("USERNAME#{}", user.username.to_lowercase()),
                None,
            )?,
            put(
                &self.events_table,
                event_item(event)?,
                Some("attribute_not_exists(pk)"),
            )?,
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

impl PhotoStore for DynamoStore {
    async fn get_photo(&self, account: &str, photo_id: &str) -> StoreResult<Option<Photo>> {
        let item = self
            .get(
                &self.data_table,
                account_pk(account),
                format!("PHOTO#{photo_id}"),
            )
            .await?;
        item.map(record).transpose()
    }

    async fn like_photo(
        &self,
        account: &str,
        photo_id: &str,
        expected: u64,
        event: &Event,
    ) -> StoreResult<()> {
        let update = Update::builder()
            .table_name(&self.data_table)
            .key("pk", s(account_pk(account)))
            .key("sk", s(format!("PHOTO#{photo_id}")))
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
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            put(
                &self.events_table,
                event_item(event)?,
                Some("attribute_not_exists(pk)"),
            )?,
        ];
        self.transact(items, |_| StoreError::Conflict).await
    }
}

/// The filter that keeps subscriptions whose list holds the type, its `noun.*`, or `*`.
fn matching_filter(event_type: &str) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    let noun = event_type
        .split_once('.')
        .map_or(event_type, |(noun, _)| noun);
    let values = vec![
        (":exact", s(event_type)),
        (":noun", s(format!("{noun}.*"))),
        (":all", s("*")),
    ];
    (
        "contains(event_types, :exact) OR contains(event_types, :noun) OR contains(event_types, :all)",
        values,
    )
}

fn subscription_item(subscription: &Subscription) -> StoreResult<Item> {
    item(
        subscription,
        account_pk(&subscription.account_id),
        format!("SUB#{}", subscription.id),
        "subscription",
    )
}

impl SubscriptionStore for DynamoStore {
    async fn create_subscription(&self, subscription: &Subscription) -> StoreResult<()> {
        let item = subscription_item(subscription)?;
        self.client
            .put_item()
            .table_name(&self.data_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
                {
                    StoreError::Conflict
                } else {
                    store_error(&e)
                }
            })?;
        Ok(())
    }

    async fn get_subscription(&self, account: &str, id: &str) -> StoreResult<Option<Subscription>> {
        self.get(&self.data_table, account_pk(account), format!("SUB#{id}"))
            .await?
            .map(record)
            .transpose()
    }

    async fn update_subscription(
        &self,
        subscription: &Subscription,
        expected_updated_at: &str,
    ) -> StoreResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.data_table)
            .set_item(Some(subscription_item(subscription)?))
            .condition_expression("attribute_exists(pk) AND updated_at = :seen")
            .expression_attribute_values(":seen", s(expected_updated_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                match self
                    .get_subscription(&subscription.account_id, &subscription.id)
                    .await?
                {
                    None => Err(StoreError::NotFound),
                    Some(_) => Err(StoreError::Conflict),
                }
            }
            Err(e) => Err(store_error(&e)),
        }
    }

    async fn delete_subscription(&self, account: &str, id: &str) -> StoreResult<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.data_table)
            .key("pk", s(account_pk(account)))
            .key("sk", s(format!("SUB#{id}")))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::NotFound)
            }
            Err(e) => Err(store_error(&e)),
        }
    }

    async fn list_subscriptions(
        &self,
        account: &str,
        matching: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Subscription>> {
        // A filter list matches an event type when it holds the type, its `noun.*`, or `*`.
        self.query_page(
            account,
            "SUB#",
            matching.map(matching_filter),
            limit,
            cursor,
            true,
        )
        .await
    }
}

impl EventStore for DynamoStore {
    async fn publish(
        &self,
        event: &Event,
        idempotency_key: Option<(&str, i64)>,
    ) -> StoreResult<Published> {
        let mut items = vec![put(
            &self.events_table,
            event_item(event)?,
            Some("attribute_not_exists(pk)"),
        )?];
        if let Some((key, expires_at)) = idempotency_key {
            let record = serde_json::json!({"event_id": event.id, "expires_at": expires_at});
            let record = item(
                &record,
                account_pk(&event.account_id),
                format!("IDEM#{key}"),
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
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
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
                        account_pk(&event.account_id),
                        format!("IDEM#{key}"),
                    )
                    .await?;
                existing
                    .and_then(|i| i.get("event_id").and_then(|v| v.as_s().ok()).cloned())
                    .map(Published::Existing)
                    .ok_or(StoreError::Conflict)
            }
            Err(other) => Err(other),
        }
    }

    async fn get_event(&self, account: &str, id: &str) -> StoreResult<Option<Event>> {
        self.get(&self.events_table, account_pk(account), format!("EVT#{id}"))
            .await?
            .map(event_from_item)
            .transpose()
    }

    async fn list_events(
        &self,
        account: &str,
        event_type: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Event>> {
        let sk = cursor
            .map(|c| {
                decode_cursor(c)
                    .filter(|sk| sk.starts_with("EVT#"))
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
                let partition = format!("ACC#{account}#TYPE#{event_type}");
                query = query
                    .index_name("gsi1")
                    .key_condition_expression("gsi1pk = :pk")
                    .expression_attribute_values(":pk", s(partition.clone()));
                if let Some(sk) = sk {
                    query = query.set_exclusive_start_key(Some(HashMap::from([
                        ("pk".to_owned(), s(account_pk(account))),
                        ("sk".to_owned(), s(sk.clone())),
                        ("gsi1pk".to_owned(), s(partition)),
                        ("gsi1sk".to_owned(), s(sk)),
                    ])));
                }
            }
            None => {
                query = query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", s(account_pk(account)))
                    .expression_attribute_values(":prefix", s("EVT#"))
                    .consistent_read(true);
                if let Some(sk) = sk {
                    query = query.set_exclusive_start_key(Some(HashMap::from([
                        ("pk".to_owned(), s(account_pk(account))),
                        ("sk".to_owned(), s(sk)),
                    ])));
                }
            }
        }
        let output = query.send().await.map_err(|e| store_error(&e))?;
        page_of(output.items.unwrap_or_default(), limit, event_from_item)
    }
}

fn delivery_status_sk(event_id: &str, subscription_id: &str) -> String {
    format!("DLV#{event_id}#{subscription_id}")
}

/// How long delivery statuses and attempts are kept.
pub const ATTEMPT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

impl crate::ports::delivery::DeliveryStore for DynamoStore {
    async fn mark_failing(
        &self,
        account: &str,
        subscription_id: &str,
        at: &str,
    ) -> StoreResult<String> {
        let output = self
            .client
            .update_item()
            .table_name(&self.data_table)
            .key("pk", s(account_pk(account)))
            .key("sk", s(format!("HEALTH#{subscription_id}")))
            .update_expression(
                "SET failing_since = if_not_exists(failing_since, :at), entity = :entity",
            )
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":entity", s("subscription_health"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        Ok(output
            .attributes
            .and_then(|a| a.get("failing_since").and_then(|v| v.as_s().ok()).cloned())
            .unwrap_or_else(|| at.to_owned()))
    }

    async fn mark_healthy(&self, account: &str, subscription_id: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.data_table)
            .key("pk", s(account_pk(account)))
            .key("sk", s(format!("HEALTH#{subscription_id}")))
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        Ok(())
    }

    async fn matching_subscriptions(
        &self,
        account: &str,
        event_type: &str,
    ) -> StoreResult<Vec<Subscription>> {
        let (expression, values) = matching_filter(event_type);
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.data_table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .filter_expression(expression)
                .expression_attribute_values(":pk", s(account_pk(account)))
                .expression_attribute_values(":prefix", s("SUB#"))
                .set_exclusive_start_key(start.take());
            for (name, value) in &values {
                query = query.expression_attribute_values(*name, value.clone());
            }
            let output = query.send().await.map_err(|e| store_error(&e))?;
            for item in output.items.unwrap_or_default() {
                found.push(record(item)?);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    async fn delivery_contexts(
        &self,
        keys: &[crate::ports::delivery::DeliveryKey],
    ) -> StoreResult<Vec<crate::ports::delivery::DeliveryContext>> {
        // Per delivery: its subscription, status and failing mark, and its event (which the
        // deliveries of one fan-out share: asked once).
        let wanted: Vec<[(String, String, String); 4]> = keys
            .iter()
            .map(|k| {
                let pk = account_pk(&k.account_id);
                [
                    (
                        self.data_table.clone(),
                        pk.clone(),
                        format!("SUB#{}", k.subscription_id),
                    ),
                    (
                        self.data_table.clone(),
                        pk.clone(),
                        delivery_status_sk(&k.event_id, &k.subscription_id),
                    ),
                    (
                        self.data_table.clone(),
                        pk.clone(),
                        format!("HEALTH#{}", k.subscription_id),
                    ),
                    (self.events_table.clone(), pk, format!("EVT#{}", k.event_id)),
                ]
            })
            .collect();
        let found = self.get_batch(wanted.iter().flatten()).await?;
        wanted
            .iter()
            .map(|[subscription, status, health, event]| {
                Ok(crate::ports::delivery::DeliveryContext {
                    subscription: found.get(subscription).cloned().map(record).transpose()?,
                    status: found.get(status).cloned().map(record).transpose()?,
                    failing: found.contains_key(health),
                    event: found.get(event).cloned().map(event_from_item).transpose()?,
                })
            })
            .collect()
    }

    async fn record_deliveries(
        &self,
        records: &[crate::ports::delivery::Recorded],
    ) -> StoreResult<()> {
        let expires_at = AttributeValue::N(
            (chrono::Utc::now().timestamp() + ATTEMPT_RETENTION_SECONDS).to_string(),
        );
        let mut items = Vec::with_capacity(records.len() * 2);
        for recorded in records {
            let pk = account_pk(&recorded.account_id);
            if let Some(attempt) = &recorded.attempt {
                let mut attempt_item = item(
                    attempt,
                    pk.clone(),
                    format!(
                        "ATT#{}#{}#{}#{:02}",
                        attempt.subscription_id,
                        attempt.attempted_at,
                        attempt.delivery_id,
                        attempt.attempt
                    ),
                    "attempt",
                )?;
                attempt_item.insert(TTL_ATTRIBUTE.into(), expires_at.clone());
                items.push(attempt_item);
            }
            let status = &recorded.status;
            let mut status_item = item(
                status,
                pk,
                delivery_status_sk(&status.event_id, &status.subscription_id),
                "delivery",
            )?;
            status_item.insert(TTL_ATTRIBUTE.into(), expires_at.clone());
            items.push(status_item);
        }
        // Plain puts, not a transaction (which bills each item twice): every record has a key of
        // its own, so writing them in any order, or again, is harmless.
        self.write_batch(items).await
    }

    async fn deliveries_of_event(
        &self,
        account: &str,
        event_id: &str,
    ) -> StoreResult<Vec<crate::model::delivery::DeliveryStatus>> {
        let page = self
            .query_page(account, &format!("DLV#{event_id}#"), None, 1000, None, true)
            .await?;
        Ok(page.items)
    }

    async fn attempts_of_subscription(
        &self,
        account: &str,
        subscription_id: &str,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<crate::model::delivery::Attempt>> {
        self.query_page(
            account,
            &format!("ATT#{subscription_id}#"),
            None,
            limit,
            cursor,
            false,
        )
        .await
    }

    async fn deactivate(
        &self,
        account: &str,
        subscription_id: &str,
        reason: &str,
    ) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.data_table)
            .key("pk", s(account_pk(account)))
            .key("sk", s(format!("SUB#{subscription_id}")))
            .update_expression("SET active = :false, disabled_reason = :reason, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", s(crate::model::now()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(store_error(&e)),
        }
    }
}
