//! The attempt log across subscriptions, in memory.

use super::MemoryStore;
use crate::model::delivery::{Attempt, newest_first};
use crate::model::{AccountId, EventId, Timestamp};
use crate::ports::StoreResult;
use crate::ports::attempts::AttemptLog;

impl AttemptLog for MemoryStore {
    async fn attempts_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
    ) -> StoreResult<Vec<Attempt>> {
        let state = self.lock();
        let mut found: Vec<Attempt> = state
            .outcomes
            .get(&(*account, *event_id))
            .into_iter()
            .flatten()
            .flat_map(|(_, records)| records.iter().filter_map(|r| r.attempt.clone()))
            .collect();
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
        let state = self.lock();
        let mut found: Vec<Attempt> = Vec::new();
        for ((_, _), writes) in state
            .outcomes
            .range((*account, first)..)
            .take_while(|((a, _), _)| a == account)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            found.extend(
                writes
                    .iter()
                    .flat_map(|(_, records)| records.iter().filter_map(|r| r.attempt.clone()))
                    .filter(|a| a.attempted_at >= since),
            );
            if found.len() >= max {
                break;
            }
        }
        newest_first(&mut found);
        Ok(found)
    }
}
