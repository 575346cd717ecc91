//! The DynamoDB calls every aggregate uses: transactions (a failed condition named by item),
//! batched reads and writes that ask again for what DynamoDB left unprocessed, strong reads, and
//! paged queries; and how SDK errors become `StoreError`s.

use super::codec::{Item, item_key, page_of, record, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::AccountId;
use crate::model::{Page, decode_cursor};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, PutRequest, TransactWriteItem, WriteRequest,
};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

pub(super) fn store_error<E, R>(error: &SdkError<E, R>) -> StoreError
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
        _ => StoreError::Backend(crate::adapters::error_chain(error)),
    }
}

/// A single-item write's error that can say whether its condition failed.
pub(super) trait ConditionFailed {
    fn condition_failed(&self) -> bool;
}

macro_rules! condition_failed {
    ($($error:ty),*) => {$(
        impl ConditionFailed for $error {
            fn condition_failed(&self) -> bool {
                self.is_conditional_check_failed_exception()
            }
        }
    )*};
}

condition_failed!(
    aws_sdk_dynamodb::operation::put_item::PutItemError,
    aws_sdk_dynamodb::operation::update_item::UpdateItemError,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemError
);

/// Whether a conditional single-item write was made (`false`: its condition failed); any other
/// failure as a [`StoreError`].
pub(super) fn written<T, E, R>(result: Result<T, SdkError<E, R>>) -> StoreResult<bool>
where
    E: ConditionFailed + ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    unless_condition_failed(result).map(|output| output.is_some())
}

/// A conditional single-item write's output, `None` when its condition failed; any other
/// failure as a [`StoreError`].
pub(super) fn unless_condition_failed<T, E, R>(
    result: Result<T, SdkError<E, R>>,
) -> StoreResult<Option<T>>
where
    E: ConditionFailed + ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(error) if error.as_service_error().is_some_and(E::condition_failed) => Ok(None),
        Err(error) => Err(store_error(&error)),
    }
}

pub(super) fn put(
    table: &str,
    item: Item,
    condition: Option<&str>,
) -> StoreResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

pub(super) fn delete(
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
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// Keys per `BatchGetItem` and items per `BatchWriteItem`: DynamoDB's limits.
pub(super) const MAX_BATCH_GET: usize = 100;
pub(super) const MAX_BATCH_WRITE: usize = 25;

/// How often a batch call is made for what DynamoDB left unprocessed before giving up
/// (`Throttled`: the caller's message is retried later).
pub(super) const BATCH_ROUNDS: u32 = 5;

/// Exponential backoff between those calls: 25, 50, 100, 200 ms.
pub(super) fn batch_backoff(round: u32) -> std::time::Duration {
    std::time::Duration::from_millis(25 << round.min(4))
}

impl DynamoStore {
    /// Runs a transaction; a failed condition on item `i` becomes `on_condition(i)`. A
    /// transaction of one put is sent as a conditional `PutItem`, as atomic and billed half
    /// (a transaction bills each item twice).
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        on_condition: impl Fn(usize) -> StoreError,
    ) -> StoreResult<()> {
        if let [only] = items.as_slice()
            && let Some(put) = only.put()
        {
            let result = self
                .client
                .put_item()
                .table_name(put.table_name())
                .set_item(Some(put.item().clone()))
                .set_condition_expression(put.condition_expression().map(str::to_owned))
                .set_expression_attribute_names(put.expression_attribute_names().cloned())
                .set_expression_attribute_values(put.expression_attribute_values().cloned())
                .send()
                .await;
            return if written(result)? {
                Ok(())
            } else {
                Err(on_condition(0))
            };
        }
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
    pub(super) async fn get_batch<'k>(
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
                        .map_err(|e| StoreError::Backend(e.to_string()))
                })
                .collect::<StoreResult<HashMap<_, _>>>()?;
            self.get_chunk(request, &mut found).await?;
        }
        Ok(found)
    }

    pub(super) async fn get_chunk(
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
    pub(super) async fn write_batch(&self, items: Vec<Item>) -> StoreResult<()> {
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
                    .map_err(|e| StoreError::Backend(e.to_string()))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        while !requests.is_empty() {
            let rest = requests.split_off(requests.len().min(MAX_BATCH_WRITE));
            self.write_chunk(requests).await?;
            requests = rest;
        }
        Ok(())
    }

    pub(super) async fn write_chunk(&self, mut requests: Vec<WriteRequest>) -> StoreResult<()> {
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

    pub(super) async fn get(
        &self,
        table: &str,
        pk: String,
        sk: String,
    ) -> StoreResult<Option<Item>> {
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

    /// The outbox row: an event's item, put into the events table beside the change that made
    /// it (in the same transaction), never over an existing one.
    pub(super) fn outbox_put(&self, event: &crate::model::Event) -> StoreResult<TransactWriteItem> {
        put(
            &self.events_table,
            super::codec::event_item(event)?,
            Some("attribute_not_exists(pk)"),
        )
    }

    /// A Query of an account's data-table items whose sort key starts with `prefix`, with an
    /// optional filter expression and its values.
    pub(super) fn prefix_query(
        &self,
        account: &AccountId,
        prefix: &str,
        filter: Option<&(&str, Vec<(&str, AttributeValue)>)>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut query = self
            .client
            .query()
            .table_name(&self.data_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::account(account)))
            .expression_attribute_values(":prefix", s(prefix));
        if let Some((expression, values)) = filter {
            query = query.filter_expression(*expression);
            for (name, value) in values {
                query = query.expression_attribute_values(*name, value.clone());
            }
        }
        query
    }

    /// One page of a partition's items whose sort key starts with `prefix`, optionally
    /// filtered. Queries until the page is full or the partition ends; the cursor is the last
    /// item returned, so a filter never skips items.
    pub(super) async fn query_page<T: DeserializeOwned>(
        &self,
        account: &AccountId,
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
                    ("pk".to_owned(), s(keys::account(account))),
                    ("sk".to_owned(), s(sk)),
                ]))
            }
        };
        let mut items: Vec<Item> = Vec::new();
        loop {
            let output = self
                .prefix_query(account, prefix, filter.as_ref())
                .limit(i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .scan_index_forward(forward)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        page_of(items, limit, record)
    }
}
