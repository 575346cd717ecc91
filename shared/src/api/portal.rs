//! Portal links and sessions: an account key asks for a one-time link; opening it trades the
//! link for a session (a cookie in the browser) limited to that account, and to some of its
//! subscriptions when asked. Tokens are kept as their SHA-256 only.

use super::base::Api;
use super::wire::{NewPortalSession, PortalLinkOut};
use crate::api::error::{ApiError, ApiResult, FieldError};
use crate::domain::secrets;
use crate::model::{AccountId, PortalGrant, PortalLink, PortalSession, SubscriptionId, now};
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use std::time::Duration;

/// How long a link may wait to be opened.
pub const PORTAL_LINK_SECONDS: u64 = 15 * 60;
/// A session's default length, and its bounds.
pub const PORTAL_SESSION_SECONDS: u32 = 3600;
pub const PORTAL_SESSION_BOUNDS: std::ops::RangeInclusive<u32> = 300..=43_200;
/// The most subscriptions one link may name.
pub const PORTAL_MAX_SUBSCRIPTIONS: usize = 100;
/// Where a link opens, below the API's origin.
pub const PORTAL_LOGIN_PATH: &str = "/portal/login";

/// A session as the browser holds it (the cookie's token) and as it was granted.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub token: String,
    pub session: PortalSession,
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// A one-time link to the portal at `origin` (`https://host`), for the account or some of
    /// its subscriptions.
    ///
    /// # Errors
    /// 422 for a session length out of bounds, too many subscriptions, or one the account does
    /// not have; storage failure.
    pub async fn create_portal_link(
        &self,
        account: &AccountId,
        input: NewPortalSession,
        origin: &str,
    ) -> ApiResult<PortalLinkOut> {
        let session_seconds = input.session_seconds.unwrap_or(PORTAL_SESSION_SECONDS);
        let mut errors = Vec::new();
        if !PORTAL_SESSION_BOUNDS.contains(&session_seconds) {
            errors.push(FieldError::new(
                "session_seconds",
                "must be from 300 to 43200",
            ));
        }
        let subscriptions = match input.subscription_ids {
            None => None,
            Some(ids) => Some(self.own_subscriptions(account, &ids, &mut errors).await?),
        };
        super::base::reject_invalid(errors)?;
        let token = secrets::new_portal_token("rhpl_");
        let expires_at = now().plus(Duration::from_secs(PORTAL_LINK_SECONDS));
        let link = PortalLink {
            grant: PortalGrant {
                account_id: *account,
                subscriptions: subscriptions.clone(),
                expires_at,
            },
            session_seconds,
        };
        self.store
            .put_portal_link(&secrets::api_key_hash(&token), &link)
            .await?;
        Ok(PortalLinkOut {
            url: format!("{origin}{PORTAL_LOGIN_PATH}?token={token}"),
            expires_at,
            session_seconds,
            subscription_ids: subscriptions,
        })
    }

    /// The subscriptions `ids` names, each checked to be the account's (422 otherwise).
    async fn own_subscriptions(
        &self,
        account: &AccountId,
        ids: &[String],
        errors: &mut Vec<FieldError>,
    ) -> ApiResult<Vec<SubscriptionId>> {
        if ids.is_empty() || ids.len() > PORTAL_MAX_SUBSCRIPTIONS {
            errors.push(FieldError::new(
                "subscription_ids",
                "must list 1 to 100 subscriptions",
            ));
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for (index, id) in ids.iter().enumerate() {
            let known = match SubscriptionId::parse(id) {
                Some(id) => self.store.get_subscription(account, &id).await?.map(|_| id),
                None => None,
            };
            match known {
                Some(id) if !found.contains(&id) => found.push(id),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("subscription_ids[{index}]"),
                    "no such subscription in this account",
                )),
            }
        }
        Ok(found)
    }

    /// Opens a link: its session, once; the link is gone afterwards.
    ///
    /// # Errors
    /// `Unauthorized` for a link that is unknown, used, expired, or of a disabled account.
    pub async fn open_portal(&self, link_token: &str) -> ApiResult<OpenedSession> {
        let link = self
            .store
            .take_portal_link(&secrets::api_key_hash(link_token))
            .await?
            .filter(|link| !link.grant.expired(now()))
            .ok_or(ApiError::Unauthorized)?;
        self.active_account(&link.grant.account_id).await?;
        let session = PortalSession {
            grant: PortalGrant {
                expires_at: now().plus(Duration::from_secs(u64::from(link.session_seconds))),
                ..link.grant
            },
            csrf_token: secrets::new_portal_token(""),
        };
        let token = secrets::new_portal_token("rhps_");
        self.store
            .put_portal_session(&secrets::api_key_hash(&token), &session)
            .await?;
        Ok(OpenedSession { token, session })
    }

    /// The session a browser's token stands for.
    ///
    /// # Errors
    /// `Unauthorized` when it is unknown, ended, expired, or its account is disabled.
    pub async fn portal_session(&self, token: &str) -> ApiResult<PortalSession> {
        let session = self
            .store
            .portal_session(&secrets::api_key_hash(token))
            .await?
            .filter(|s| !s.grant.expired(now()))
            .ok_or(ApiError::Unauthorized)?;
        self.active_account(&session.grant.account_id).await?;
        Ok(session)
    }

    /// Ends a session (signing out); no error when it was gone.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn end_portal_session(&self, token: &str) -> ApiResult<()> {
        Ok(self
            .store
            .end_portal_session(&secrets::api_key_hash(token))
            .await?)
    }

    async fn active_account(&self, account: &AccountId) -> ApiResult<()> {
        match self.store.portal_account(account).await? {
            Some(found) if !found.disabled => Ok(()),
            _ => Err(ApiError::Unauthorized),
        }
    }
}
