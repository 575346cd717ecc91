//! The attempt log across subscriptions, from the outcome items (`ACC#<acc>` / `OUT#<evt>#…`):
//! an event's is one Query of its prefix; the recent ones a Query of the sort keys from the
//! first event id of `since` on, newest first.

use super::calls::store_error;
use super::codec::s;
use super::deliveries::outcome_item;
use super::keys;
use super::store::DynamoStore;
use crate::model::delivery::{Attempt, newest_first};
use crate::model::{AccountId, EventId, Timestamp};
use crate::ports::StoreResult;
use crate::ports::attempts::AttemptLog;

impl AttemptLog for DynamoStore {
    async fn attempts_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
    ) -> StoreResult<Vec<Attempt>> {
        let items = self.outcome_items_of_event(account, event_id, true).await?;
        let mut found: Vec<Attempt> = items.iter().flat_map(|o| o.attempts()).collect();
        newest_first(&mut found);
        Ok(found)
    }

    async fn attempts_since(
        &self,
        account: &AccountId,
        since: Timestamp,
        max: usize,
    ) -> StoreResult<Vec<Attempt>> {
        let first = EventId::from_parts(u64::try_from(since.unix_millis()).unwrap_or(0), 0);
        // Every outcome sort key is below "OUT$" ('$' follows '#').
        let last = keys::OUTCOMES_PREFIX.replace('#', "$");
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.data_table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(keys::account(account)))
                .expression_attribute_values(":from", s(keys::outcomes_of_event(first)))
                .expression_attribute_values(":to", s(last.as_str()))
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            for item in output.items.unwrap_or_default() {
                let (_, outcomes) = outcome_item(&item)?;
                found.extend(outcomes.attempts().filter(|a| a.attempted_at >= since));
            }
            start = output.last_evaluated_key;
            if start.is_none() || found.len() >= max {
                newest_first(&mut found);
                return Ok(found);
            }
        }
    }
}
