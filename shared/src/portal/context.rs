//! A signed-in request: the use-cases, the request, its session; and the checks a posted form
//! passes before anything changes.

use super::error::{PortalError, PortalResult};
use super::form::Form;
use super::notices::notice;
use super::views::Chrome;
use crate::api::Api;
use crate::domain::secrets::secrets_equal;
use crate::http::{header, origin};
use crate::model::{AccountId, PortalGrant, PortalSession};
use lambda_http::Request;

/// A signed-in request: the use-cases, the request and its session.
pub struct Ctx<'a, S, R, Q> {
    pub api: &'a Api<S, R, Q>,
    pub request: &'a Request,
    pub session: PortalSession,
    /// The session's token, to end it.
    pub token: &'a str,
}

impl<S, R, Q> Ctx<'_, S, R, Q>
where
    S: crate::ports::Stores,
    R: crate::ports::resolver::Resolver,
    Q: crate::ports::delivery::DeliveryQueue,
{
    /// The account's catalog of event types (the platform's own, then those it published), to
    /// pick from and filter by.
    pub async fn catalog(&self) -> PortalResult<Vec<crate::api::wire::EventTypeOut>> {
        let first_page = crate::api::PageRequest {
            limit: crate::api::MAX_PAGE,
            cursor: None,
        };
        Ok(self
            .api
            .list_event_types(self.account(), first_page)
            .await?
            .data)
    }
}

impl<S, R, Q> Ctx<'_, S, R, Q> {
    pub fn grant(&self) -> &PortalGrant {
        &self.session.grant
    }

    pub fn account(&self) -> &AccountId {
        &self.session.grant.account_id
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    pub fn chrome(&self) -> Chrome {
        Chrome {
            csrf: self.session.csrf_token.clone(),
        }
    }

    /// The notice a redirect after a form asked for (`?done=`), in the portal's own words.
    pub fn notice(&self) -> Option<&'static str> {
        crate::http::query(self.request, "done").and_then(|done| notice(&done))
    }

    /// A POST's form, once it is shown to come from this session's pages: the session's CSRF
    /// token in the form and, when the browser names one, the portal's own origin. `None` for
    /// a GET.
    pub fn posted_form(&self, method: &str) -> PortalResult<Option<Form>> {
        if method != "POST" {
            return Ok(None);
        }
        let form = Form::read(self.request)?;
        let same_origin =
            header(self.request, "origin").is_none_or(|sent| sent == origin(self.request));
        if !same_origin || !secrets_equal(form.get("csrf"), self.csrf()) {
            return Err(PortalError::Forbidden);
        }
        Ok(Some(form))
    }
}
