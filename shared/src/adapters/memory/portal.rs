//! Portal links and sessions, in memory.

use super::MemoryStore;
use crate::model::{Account, AccountId, PortalLink, PortalSession};
use crate::ports::portal::PortalStore;
use crate::ports::{StoreError, StoreResult};

impl PortalStore for MemoryStore {
    async fn put_portal_link(&self, token_hash: &str, link: &PortalLink) -> StoreResult<()> {
        let mut state = self.lock();
        if state.portal_links.contains_key(token_hash) {
            return Err(StoreError::Conflict);
        }
        state
            .portal_links
            .insert(token_hash.to_owned(), link.clone());
        Ok(())
    }

    async fn take_portal_link(&self, token_hash: &str) -> StoreResult<Option<PortalLink>> {
        Ok(self.lock().portal_links.remove(token_hash))
    }

    async fn put_portal_session(
        &self,
        token_hash: &str,
        session: &PortalSession,
    ) -> StoreResult<()> {
        let mut state = self.lock();
        if state.portal_sessions.contains_key(token_hash) {
            return Err(StoreError::Conflict);
        }
        state
            .portal_sessions
            .insert(token_hash.to_owned(), session.clone());
        Ok(())
    }

    async fn portal_session(&self, token_hash: &str) -> StoreResult<Option<PortalSession>> {
        Ok(self.lock().portal_sessions.get(token_hash).cloned())
    }

    async fn end_portal_session(&self, token_hash: &str) -> StoreResult<()> {
        self.lock().portal_sessions.remove(token_hash);
        Ok(())
    }

    async fn portal_account(&self, account: &AccountId) -> StoreResult<Option<Account>> {
        Ok(self.lock().accounts.get(account).cloned())
    }
}
