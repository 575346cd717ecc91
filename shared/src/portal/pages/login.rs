//! The pages open to anyone: the assets, a sign-in link's page, and the form that trades the
//! link's token for a session. The link's GET changes nothing (a mail scanner that follows it
//! does not use it up); the page's script sends the form at once.

use crate::api::Api;
use crate::api::error::ApiError;
use crate::portal::error::{PortalError, PortalResult};
use crate::portal::form::Form;
use crate::portal::response::{CSS, JS, asset, html, see_other, with_cookie};
use crate::portal::routes::Page;
use crate::portal::views::MessagePage;
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use askama::Template;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// Where a new session lands.
pub const HOME: &str = "/portal/endpoints";

/// A page that needs no session.
///
/// # Errors
/// A link that is unknown, used or expired (signed out); a form that is too large.
pub async fn open_page<S, R, Q>(
    api: &Api<S, R, Q>,
    request: &Request,
    page: &Page,
) -> PortalResult<Response<Body>>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    match page {
        Page::Stylesheet => Ok(asset("text/css; charset=utf-8", CSS)),
        Page::Script => Ok(asset("text/javascript; charset=utf-8", JS)),
        Page::OpenSession => {
            let form = Form::read(request)?;
            let opened = match api.open_portal(form.get("token")).await {
                Ok(opened) => opened,
                Err(ApiError::Unauthorized) => return Err(PortalError::SignedOut),
                Err(other) => return Err(other.into()),
            };
            let now = crate::model::now().unix_seconds();
            let lifetime = opened.session.grant.expires_at.unix_seconds() - now;
            let lifetime = u64::try_from(lifetime).unwrap_or(0);
            Ok(with_cookie(
                see_other(HOME),
                Some((&opened.token, lifetime)),
            ))
        }
        _ => {
            let token = crate::http::query(request, "token").unwrap_or_default();
            let page = MessagePage {
                chrome: None,
                notice: None,
                heading: "Opening the portal…",
                detail: "Select the button if the portal does not open by itself.",
                login_token: Some(&token),
            };
            Ok(html(StatusCode::OK, page.render()?))
        }
    }
}
