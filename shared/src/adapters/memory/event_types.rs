//! The event types each account's events had, in memory.

use super::{MemoryStore, page};
use crate::adapters::dynamodb::keys;
use crate::model::{AccountId, Page, SeenEventType};
use crate::ports::{EventTypeStore, StoreResult};

impl EventTypeStore for MemoryStore {
    async fn note_event_type(&self, seen: &SeenEventType) -> StoreResult<()> {
        let mut state = self.lock();
        let key = (seen.account_id, seen.event_type.clone());
        let known = state.event_types.entry(key).or_insert_with(|| seen.clone());
        known.last_seen = known.last_seen.max(seen.last_seen);
        Ok(())
    }

    async fn list_event_types(
        &self,
        account: &AccountId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<SeenEventType>> {
        let state = self.lock();
        let mine = state
            .event_types
            .iter()
            .filter(|((owner, _), _)| owner == account)
            .map(|((_, name), seen)| (keys::event_type(name), seen.clone()));
        page(mine, keys::EVENT_TYPE_PREFIX, limit, cursor, false)
    }
}
