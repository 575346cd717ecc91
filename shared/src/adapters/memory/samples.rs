//! The accounts that get sample events, in memory.

use super::MemoryStore;
use crate::model::AccountId;
use crate::ports::{SampleEventStore, StoreResult};

impl SampleEventStore for MemoryStore {
    async fn set_sample_events(&self, account: &AccountId, period: Option<u32>) -> StoreResult<()> {
        let mut state = self.lock();
        match period {
            Some(period) => state.samples.insert(*account, period),
            None => state.samples.remove(account),
        };
        Ok(())
    }

    async fn sample_events(&self, account: &AccountId) -> StoreResult<Option<u32>> {
        Ok(self.lock().samples.get(account).copied())
    }

    async fn sample_accounts(&self) -> StoreResult<Vec<(AccountId, u32)>> {
        Ok(self.lock().samples.iter().map(|(a, p)| (*a, *p)).collect())
    }
}
