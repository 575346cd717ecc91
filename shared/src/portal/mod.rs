//! The web portal an account hands its customers: their endpoints, the event log, attempts,
//! resend, replay and secrets, as server-rendered HTML over the API's use-cases.
//!
//! Sign-in: `POST /api/v1/portal/sessions` (account key) answers a one-time link; opening it
//! shows a form that trades the link's token for a session cookie (`HttpOnly`, `Secure`,
//! `SameSite=Strict`, path `/portal`). Every form carries the session's CSRF token and must come
//! from the portal's own origin; pages carry a strict Content-Security-Policy; everything shown
//! is escaped by the templates, receivers' answers included.

mod chart;
mod context;
mod error;
mod form;
mod notices;
mod pages;
mod response;
mod routes;
mod views;

pub use error::{PortalError, PortalResult};
pub use response::{CONTENT_SECURITY_POLICY, COOKIE};
pub use routes::GATEWAY_ROUTE;

use crate::api::Api;
use crate::api::error::ApiError;
use crate::http::header;
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use context::Ctx;
use lambda_http::{Body, Request, Response};
use routes::Unrouted;

/// Whether a path is the portal's (the function serving it hands such requests to [`handle`]).
#[must_use]
pub fn is_portal_path(path: &str) -> bool {
    path.starts_with("/portal/")
}

/// Answers one request for a portal page, with one log line (method, path, status, duration;
/// never the token, cookie or form).
pub async fn handle<S, R, Q>(api: &Api<S, R, Q>, request: &Request) -> Response<Body>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    let started = std::time::Instant::now();
    let response = serve(api, request).await;
    tracing::info!(
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis(),
        "portal request"
    );
    response
}

async fn serve<S, R, Q>(api: &Api<S, R, Q>, request: &Request) -> Response<Body>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    let method = request.method().as_str();
    let page = match routes::page(method, request.uri().path()) {
        Ok(page) => page,
        Err(Unrouted::NotFound) => {
            return error::error_page(&ApiError::NotFound("page").into(), None);
        }
        Err(Unrouted::MethodNotAllowed(allow)) => {
            let error = ApiError::MethodNotAllowed {
                allow: allow.to_vec(),
            };
            let mut response = error::error_page(&error.into(), None);
            if let Ok(value) = allow.join(", ").parse() {
                response.headers_mut().insert("allow", value);
            }
            return response;
        }
    };
    if !page.needs_session() {
        return pages::login::open_page(api, request, &page)
            .await
            .unwrap_or_else(|e| error::error_page(&e, None));
    }
    let token = response::session_token(header(request, "cookie"));
    let session = match token {
        Some(token) => api.portal_session(token).await,
        None => Err(ApiError::Unauthorized),
    };
    let session = match session {
        Ok(session) => session,
        Err(ApiError::Unauthorized) => {
            return response::with_cookie(error::error_page(&PortalError::SignedOut, None), None);
        }
        Err(other) => return error::error_page(&other.into(), None),
    };
    let ctx = Ctx {
        api,
        request,
        session,
        token: token.unwrap_or_default(),
    };
    let answered = match ctx.posted_form(method) {
        Ok(form) => pages::serve(&ctx, &page, form).await,
        Err(error) => Err(error),
    };
    answered.unwrap_or_else(|e| error::error_page(&e, Some(ctx.chrome())))
}
