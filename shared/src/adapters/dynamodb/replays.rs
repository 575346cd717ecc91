//! Replays: the window's event heads (a key-range Query without the data), and the replay with
//! its parts in one transaction on the events table, whose stream takes the parts to fan-out.

use super::calls::{put, store_error};
use super::codec::{Item, TTL_ATTRIBUTE, item, record, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::{AccountId, EventHead, EventId, Replay, ReplayPart, SubscriptionId, Timestamp};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;

/// The entity of a replay part's item: the fan-out stream filter lets it through.
pub const REPLAY_PART_ENTITY: &str = "replay_part";

/// The sort key of the first (`last` false) or last possible event id of a millisecond.
fn event_bound(at: Timestamp, last: bool) -> String {
    let ms = u64::try_from(at.unix_millis()).unwrap_or_default();
    keys::event(EventId::from_parts(ms, if last { u128::MAX } else { 0 }))
}

fn head_of(item: &Item) -> Option<EventHead> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    Some(EventHead {
        id: EventId::parse(text("id")?)?,
        event_type: text("type")?.clone(),
        subscription_id: text("subscription_id").and_then(|id| SubscriptionId::parse(id)),
    })
}

/// A replay part back from its item (what fan-out reads from a stream image).
///
/// # Errors
/// The item is not a replay part.
pub fn replay_part_from_item(item: impl Into<serde_dynamo::Item>) -> StoreResult<ReplayPart> {
    serde_dynamo::from_item(item)
        .map_err(|e| StoreError::Backend(format!("deserialise replay part: {e}")))
}

impl DynamoStore {
    pub(super) async fn window_heads(
        &self,
        account: &AccountId,
        since: Timestamp,
        until: Timestamp,
        keep: &(dyn Fn(&EventHead) -> bool + Sync),
        limit: usize,
    ) -> StoreResult<Vec<EventHead>> {
        let mut kept = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.events_table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::account(account)))
                .expression_attribute_values(":from", s(event_bound(since, false)))
                .expression_attribute_values(":to", s(event_bound(until, true)))
                .projection_expression("id, #type, subscription_id")
                .expression_attribute_names("#type", "type")
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            for item in output.items() {
                let head = head_of(item).ok_or_else(|| {
                    StoreError::Backend("an event item without id or type".into())
                })?;
                if keep(&head) {
                    kept.push(head);
                    if kept.len() >= limit {
                        return Ok(kept);
                    }
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(kept);
            }
        }
    }

    pub(super) async fn write_replay(
        &self,
        replay: &Replay,
        parts: &[ReplayPart],
    ) -> StoreResult<Option<Replay>> {
        let pk = keys::account(replay.account_id);
        let expires = AttributeValue::N(
            (replay.created_at.unix_seconds() + super::codec::EVENT_RETENTION_SECONDS).to_string(),
        );
        let mut head = item(replay, pk.clone(), keys::replay(&replay.id), "replay")?;
        head.insert(TTL_ATTRIBUTE.into(), expires.clone());
        let mut items = vec![put(
            &self.events_table,
            head,
            Some("attribute_not_exists(pk)"),
        )?];
        for part in parts {
            let sk = keys::replay_part(&part.replay_id, part.part);
            let mut stored = item(part, pk.clone(), sk, REPLAY_PART_ENTITY)?;
            stored.insert(TTL_ATTRIBUTE.into(), expires.clone());
            items.push(put(&self.events_table, stored, None)?);
        }
        match self.transact(items, |_| StoreError::Conflict).await {
            Ok(()) => Ok(None),
            Err(StoreError::Conflict) => {
                let existing = self
                    .get(&self.events_table, pk, keys::replay(&replay.id))
                    .await?
                    .ok_or(StoreError::Conflict)?;
                record(existing).map(Some)
            }
            Err(other) => Err(other),
        }
    }
}
