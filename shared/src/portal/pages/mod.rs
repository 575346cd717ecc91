//! The signed-in pages and forms, by what they show: endpoints, events; and signing out.

mod endpoints;
mod events;
pub mod login;

use super::context::Ctx;
use super::error::PortalResult;
use super::form::Form;
use super::response::{html, with_cookie};
use super::routes::Page;
use super::views::MessagePage;
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use askama::Template;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

/// Answers a signed-in page (`form`: a POST's, checked).
pub async fn serve<S, R, Q>(
    ctx: &Ctx<'_, S, R, Q>,
    page: &Page,
    form: Option<Form>,
) -> PortalResult<Response<Body>>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    let form = form.unwrap_or_default();
    match page {
        Page::SignOut => {
            ctx.api.end_portal_session(ctx.token).await?;
            let page = MessagePage {
                chrome: None,
                notice: None,
                heading: "Signed out",
                detail: "You are signed out. Open a new link to the portal to come back.",
                login_token: None,
            };
            Ok(with_cookie(html(StatusCode::OK, page.render()?), None))
        }
        Page::Endpoints => endpoints::list(ctx).await,
        Page::NewEndpoint => endpoints::new(ctx).await,
        Page::CreateEndpoint => endpoints::create(ctx, &form).await,
        Page::Endpoint(id) => endpoints::show(ctx, id, None).await,
        Page::UpdateEndpoint(id) => endpoints::update(ctx, id, &form).await,
        Page::DeleteEndpoint(id) => endpoints::delete(ctx, id).await,
        Page::RevealSecret(id) => endpoints::reveal(ctx, id).await,
        Page::RotateSecret(id) => endpoints::rotate(ctx, id).await,
        Page::TestEndpoint(id) => endpoints::test(ctx, id).await,
        Page::ReplayEndpoint(id) => endpoints::replay(ctx, id, &form).await,
        Page::Events => events::log(ctx).await,
        Page::Event(id) => events::show(ctx, id).await,
        Page::Resend(id) => events::resend(ctx, id, &form).await,
        Page::Stylesheet | Page::Script | Page::Login | Page::OpenSession => {
            Err(crate::api::error::ApiError::NotFound("page").into())
        }
    }
}
