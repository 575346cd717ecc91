//! Where portal links and sessions are kept, by the SHA-256 of their token (the token itself is
//! only ever in the link or the browser's cookie).

use super::error::StoreResult;
use crate::model::{Account, AccountId, PortalLink, PortalSession};
use std::future::Future;

pub trait PortalStore: Send + Sync {
    /// Keeps a link until it is opened or expires.
    fn put_portal_link(
        &self,
        token_hash: &str,
        link: &PortalLink,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Takes a link: it the first time, `None` ever after (one-time), also when two
    /// browsers open it at once. Expiry is the caller's to check.
    fn take_portal_link(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<PortalLink>>> + Send;
    fn put_portal_session(
        &self,
        token_hash: &str,
        session: &PortalSession,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The session, until it is ended (expiry is the caller's to check).
    fn portal_session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = StoreResult<Option<PortalSession>>> + Send;
    /// Ends a session (no error when there is none).
    fn end_portal_session(&self, token_hash: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// The account, as it is now (a session of a disabled account is refused).
    fn portal_account(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = StoreResult<Option<Account>>> + Send;
}
