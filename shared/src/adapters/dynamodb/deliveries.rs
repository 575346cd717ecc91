//! Delivery statuses, the attempt log and the failing mark (TTL 30 days), read for a batch in
//! one `BatchGetItem` and written in `BatchWriteItem`s.

use super::calls::{store_error, written};
use super::codec::TTL_ATTRIBUTE;
use super::codec::{event_from_item, item, record, s};
use super::keys;
use super::store::DynamoStore;
use super::subscriptions::matching_filter;
use crate::model::Timestamp;
use crate::model::{AccountId, EventId, SubscriptionId};
use crate::model::{Page, Subscription};
use crate::ports::StoreResult;
use aws_sdk_dynamodb::types::AttributeValue;

/// How long delivery statuses and attempts are kept.
pub const ATTEMPT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

impl crate::ports::delivery::DeliveryStore for DynamoStore {
    async fn mark_failing(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        at: &Timestamp,
    ) -> StoreResult<Timestamp> {
        let output = self
            .client
            .update_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::health(subscription_id)))
            .update_expression(
                "SET failing_since = if_not_exists(failing_since, :at), entity = :entity",
            )
            .expression_attribute_values(":at", s(at.to_string()))
            .expression_attribute_values(":entity", s("subscription_health"))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        Ok(output
            .attributes
            .and_then(|a| {
                a.get("failing_since")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|text| Timestamp::parse(text))
            })
            .unwrap_or(*at))
    }

    async fn mark_healthy(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
    ) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::health(subscription_id)))
            .send()
            .await
            .map_err(|e| store_error(&e))?;
        Ok(())
    }

    async fn matching_subscriptions(
        &self,
        account: &AccountId,
        event_type: &str,
    ) -> StoreResult<Vec<Subscription>> {
        let filter = matching_filter(event_type);
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .prefix_query(account, keys::SUBSCRIPTION_PREFIX, Some(&filter))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error(&e))?;
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
                let pk = keys::account(k.account_id);
                [
                    (
                        self.data_table.clone(),
                        pk.clone(),
                        keys::subscription(k.subscription_id),
                    ),
                    (
                        self.data_table.clone(),
                        pk.clone(),
                        keys::delivery(k.event_id, k.subscription_id),
                    ),
                    (
                        self.data_table.clone(),
                        pk.clone(),
                        keys::health(k.subscription_id),
                    ),
                    (self.events_table.clone(), pk, keys::event(k.event_id)),
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
            let pk = keys::account(recorded.account_id);
            if let Some(attempt) = &recorded.attempt {
                let mut attempt_item = item(
                    attempt,
                    pk.clone(),
                    keys::attempt(
                        attempt.subscription_id,
                        &attempt.attempted_at,
                        &attempt.delivery_id,
                        attempt.attempt,
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
                keys::delivery(status.event_id, status.subscription_id),
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
        account: &AccountId,
        event_id: &EventId,
    ) -> StoreResult<Vec<crate::model::delivery::DeliveryStatus>> {
        let page = self
            .query_page(
                account,
                &keys::deliveries_of_event(event_id),
                None,
                1000,
                None,
                true,
            )
            .await?;
        Ok(page.items)
    }

    async fn attempts_of_subscription(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<crate::model::delivery::Attempt>> {
        self.query_page(
            account,
            &keys::attempts_of_subscription(subscription_id),
            None,
            limit,
            cursor,
            false,
        )
        .await
    }

    async fn deactivate(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        reason: &str,
    ) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::subscription(subscription_id)))
            .update_expression("SET active = :false, disabled_reason = :reason, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", s(crate::model::now().to_string()))
            .send()
            .await;
        // A subscription deleted meanwhile has nothing left to deactivate.
        written(result).map(|_| ())
    }
}
