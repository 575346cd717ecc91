//! What goes wrong in the portal, and the page each answers with. Statuses of the API's errors
//! come from [`crate::http::problem_kind`], the one classification; the portal adds its own two.

use super::response::html;
use super::views::{Chrome, MessagePage};
use crate::api::error::ApiError;
use crate::http::{ProblemKind, problem_kind};
use askama::Template;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No session, or it ended: sign in again with a new link.
    #[error("signed out")]
    SignedOut,
    /// A form without this session's CSRF token, or from another origin.
    #[error("forbidden")]
    Forbidden,
    /// A page could not be rendered (a template error); the text goes to the logs only.
    #[error("render: {0}")]
    Render(String),
}

impl From<askama::Error> for PortalError {
    fn from(error: askama::Error) -> Self {
        Self::Render(error.to_string())
    }
}

pub type PortalResult<T> = Result<T, PortalError>;

/// The page for an error; internal text is logged, never shown.
#[must_use]
pub fn error_page(error: &PortalError, chrome: Option<Chrome>) -> Response<Body> {
    let (status, heading, detail) = describe(error);
    let page = MessagePage {
        chrome,
        notice: None,
        heading,
        detail: &detail,
        login_token: None,
    };
    html(status, page.render().unwrap_or_else(|_| heading.to_owned()))
}

fn describe(error: &PortalError) -> (StatusCode, &'static str, String) {
    match error {
        PortalError::SignedOut => (
            StatusCode::UNAUTHORIZED,
            "Signed out",
            "This link was used already or has expired, or your session ended. Ask for a new \
             link to the portal."
                .into(),
        ),
        PortalError::Forbidden => (
            StatusCode::FORBIDDEN,
            "Refused",
            "The form was not sent from this portal session. Reload the page and try again.".into(),
        ),
        PortalError::Render(text) => {
            tracing::error!(error = %text, "portal page failed to render");
            internal()
        }
        PortalError::Api(ApiError::Internal(text)) => {
            tracing::error!(error = %text, "internal error");
            internal()
        }
        PortalError::Api(api) => {
            let kind = problem_kind(api);
            let detail = match api {
                ApiError::NotFound(what) => format!("No such {what}."),
                ApiError::Validation(errors) => errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                ApiError::BadRequest(detail) | ApiError::Conflict(detail) => detail.clone(),
                _ => kind.title().to_owned(),
            };
            (kind.status(), kind.title(), detail)
        }
    }
}

fn internal() -> (StatusCode, &'static str, String) {
    (
        ProblemKind::Internal.status(),
        ProblemKind::Internal.title(),
        "The page could not be shown; try again shortly.".into(),
    )
}
