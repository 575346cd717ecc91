//! Delivery records (one outcome item per event and write, see `outcomes`), the failing mark
//! (TTL 30 days), and what `deliver` reads for a batch.

use super::calls::{store_error, written};
use super::codec::{Item, TTL_ATTRIBUTE};
use super::codec::{event_from_item, record, s};
use super::keys;
use super::outcomes;
use super::store::DynamoStore;
use super::subscriptions::matching_filter;
use crate::model::delivery::{Attempt, DeliveryStatus, latest_statuses};
use crate::model::operational::SubscriptionDisabled;
use crate::model::{AccountId, EventId, SubscriptionId};
use crate::model::{Page, Subscription, Timestamp, decode_cursor, encode_cursor};
use crate::ports::delivery::{EventDeliveries, Recorded, SubscriptionState};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

/// How long delivery statuses and attempts are kept.
pub const ATTEMPT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// Entries per outcome item: at most 4 KB each (a response excerpt), so an item stays far below
/// DynamoDB's 400 KB.
const ENTRIES_PER_ITEM: usize = 50;

/// An outcome item's sort key and entries.
pub(super) fn outcome_item(item: &Item) -> StoreResult<(String, outcomes::Outcomes)> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    let sk = text("sk").ok_or_else(|| StoreError::Backend("outcome item without sk".into()))?;
    let event_id = keys::event_of_outcomes(sk)
        .and_then(EventId::parse)
        .ok_or_else(|| StoreError::Backend(format!("outcome item {sk}")))?;
    let entries = text(outcomes::ENTRIES).map_or("[]", String::as_str);
    Ok((sk.clone(), outcomes::Outcomes::decode(event_id, entries)?))
}

impl DynamoStore {
    /// Every outcome item of an event, decoded.
    pub(super) async fn outcome_items_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
        consistent: bool,
    ) -> StoreResult<Vec<outcomes::Outcomes>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .prefix_query(account, &keys::outcomes_of_event(event_id), None)
                .consistent_read(consistent)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            for item in output.items.unwrap_or_default() {
                found.push(outcome_item(&item)?.1);
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// The latest status of each delivery of an event, from its outcome items.
    async fn outcomes_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
        consistent: bool,
    ) -> StoreResult<Vec<DeliveryStatus>> {
        let items = self
            .outcome_items_of_event(account, event_id, consistent)
            .await?;
        Ok(latest_statuses(
            items.iter().flat_map(outcomes::Outcomes::statuses),
        ))
    }
}

impl crate::ports::delivery::DeliveryStore for DynamoStore {
    async fn mark_failing(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        at: &Timestamp,
        gap: std::time::Duration,
    ) -> StoreResult<Timestamp> {
        let cutoff = Timestamp::from_unix_millis(
            at.unix_millis() - i64::try_from(gap.as_millis()).unwrap_or(i64::MAX / 2),
        )
        .unwrap_or(*at);
        let update = |restart: bool| {
            let set = if restart {
                "SET failing_since = :at, last_failure_at = :at, entity = :entity"
            } else {
                "SET failing_since = if_not_exists(failing_since, :at), last_failure_at = :at, entity = :entity"
            };
            let mut call = self
                .client
                .update_item()
                .table_name(&self.data_table)
                .key("pk", s(keys::account(account)))
                .key("sk", s(keys::health(subscription_id)))
                .update_expression(set)
                .expression_attribute_values(":at", s(at.to_string()))
                .expression_attribute_values(":entity", s("subscription_health"))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
            if !restart {
                // Times are stored as RFC 3339 UTC to the millisecond: they sort as text.
                call = call
                    .condition_expression(
                        "attribute_not_exists(last_failure_at) OR last_failure_at >= :cutoff",
                    )
                    .expression_attribute_values(":cutoff", s(cutoff.to_string()));
            }
            call.send()
        };
        let output = match update(false).await {
            Ok(output) => output,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                update(true).await.map_err(|e| store_error(&e))?
            }
            Err(error) => return Err(store_error(&error)),
        };
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

    async fn delivery_subscriptions(
        &self,
        ids: &[(AccountId, SubscriptionId)],
    ) -> StoreResult<Vec<SubscriptionState>> {
        let wanted: Vec<[(String, String, String); 2]> = ids
            .iter()
            .map(|(account, id)| {
                let pk = keys::account(account);
                [
                    (self.data_table.clone(), pk.clone(), keys::subscription(id)),
                    (self.data_table.clone(), pk, keys::health(id)),
                ]
            })
            .collect();
        let found = self.get_batch(wanted.iter().flatten()).await?;
        wanted
            .iter()
            .map(|[subscription, health]| {
                Ok(SubscriptionState {
                    subscription: found.get(subscription).cloned().map(record).transpose()?,
                    failing: found.contains_key(health),
                })
            })
            .collect()
    }

    async fn event_deliveries(
        &self,
        ids: &[(AccountId, EventId)],
    ) -> StoreResult<Vec<EventDeliveries>> {
        let wanted: Vec<(String, String, String)> = ids
            .iter()
            .map(|(account, id)| {
                (
                    self.events_table.clone(),
                    keys::account(account),
                    keys::event(id),
                )
            })
            .collect();
        let (found, statuses) = futures::future::try_join(
            self.get_batch(wanted.iter()),
            futures::future::try_join_all(
                ids.iter()
                    .map(|(account, id)| self.outcomes_of_event(account, id, false)),
            ),
        )
        .await?;
        wanted
            .iter()
            .zip(statuses)
            .map(|(key, statuses)| {
                Ok(EventDeliveries {
                    event: found.get(key).cloned().map(event_from_item).transpose()?,
                    statuses,
                })
            })
            .collect()
    }

    async fn record_deliveries(&self, records: &[Recorded]) -> StoreResult<()> {
        let expires_at = AttributeValue::N(
            (chrono::Utc::now().timestamp() + ATTEMPT_RETENTION_SECONDS).to_string(),
        );
        let mut items = Vec::new();
        for ((account, event_id), group) in outcomes::by_event(records) {
            // Well under DynamoDB's 400 KB per item, even when every entry keeps a 4 KB excerpt.
            for chunk in group.chunks(ENTRIES_PER_ITEM) {
                items.push(Item::from([
                    ("pk".to_owned(), s(keys::account(account))),
                    (
                        "sk".to_owned(),
                        s(keys::outcomes(event_id, crate::model::next_ulid())),
                    ),
                    (outcomes::ENTRIES.to_owned(), s(outcomes::encode(chunk)?)),
                    (TTL_ATTRIBUTE.to_owned(), expires_at.clone()),
                ]));
            }
        }
        // Plain puts, not a transaction (which bills each item twice): every item has a key of
        // its own, so writing them in any order, or again, is harmless.
        self.write_batch(items).await
    }

    async fn deliveries_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
    ) -> StoreResult<Vec<DeliveryStatus>> {
        self.outcomes_of_event(account, event_id, true).await
    }

    async fn attempts_of_subscription(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Attempt>> {
        let mut start = cursor
            .map(|cursor| {
                decode_cursor(cursor)
                    .filter(|sk| sk.starts_with(keys::OUTCOMES_PREFIX))
                    .map(|sk| {
                        Item::from([
                            ("pk".to_owned(), s(keys::account(account))),
                            ("sk".to_owned(), s(sk)),
                        ])
                    })
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?;
        // Outcome items name the subscriptions they hold in their entries' text.
        let filter = (
            "contains(#o, :sub)",
            vec![(":sub", s(subscription_id.to_string()))],
        );
        let mut found: Vec<(String, Attempt)> = Vec::new();
        loop {
            let output = self
                .prefix_query(account, keys::OUTCOMES_PREFIX, Some(&filter))
                .expression_attribute_names("#o", outcomes::ENTRIES)
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            for item in output.items.unwrap_or_default() {
                let (sk, outcomes) = outcome_item(&item)?;
                for attempt in outcomes.attempts_of(*subscription_id) {
                    found.push((sk.clone(), attempt));
                }
            }
            start = output.last_evaluated_key;
            if found.len() > limit || start.is_none() {
                break;
            }
        }
        // The cursor is the last item all of whose attempts were returned.
        let more = found.len() > limit;
        let mut next_cursor = None;
        if more {
            let cut = found[limit].0.clone();
            match found[..limit].iter().rposition(|(sk, _)| *sk != cut) {
                Some(last) => found.truncate(last + 1),
                // One item holds more than a page: all of it, past the limit.
                None => found.retain(|(sk, _)| *sk == cut),
            }
            next_cursor = found.last().map(|(sk, _)| encode_cursor(sk));
        }
        Ok(Page {
            items: found.into_iter().map(|(_, attempt)| attempt).collect(),
            next_cursor,
        })
    }

    async fn mark_verified(
        &self,
        account: &AccountId,
        subscription_id: &SubscriptionId,
        challenge: &str,
    ) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::subscription(subscription_id)))
            .update_expression("SET active = :true, updated_at = :now REMOVE verification")
            .condition_expression("verification.challenge = :challenge")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":now", s(crate::model::now().to_string()))
            .expression_attribute_values(":challenge", s(challenge))
            .send()
            .await;
        written(result)
    }

    async fn deactivate(
        &self,
        account: &AccountId,
        disabled: &SubscriptionDisabled,
    ) -> StoreResult<bool> {
        let update = Update::builder()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::subscription(disabled.subscription_id)))
            .update_expression(
                "SET active = :false, disabled_reason = :reason, updated_at = :now REMOVE verification",
            )
            // Gone, or off already (another container, or its owner): nothing to say.
            .condition_expression(
                "attribute_exists(pk) AND (active = :true OR attribute_exists(verification))",
            )
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":reason", s(disabled.reason.clone()))
            .expression_attribute_values(":now", s(disabled.disabled_at.to_string()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.outbox_put(&disabled.event(*account))?,
        ];
        match self.transact(items, |_| StoreError::Conflict).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(other) => Err(other),
        }
    }
}
