//! The errors a use-case answers with. [`crate::http::error_response`] is the one place they
//! become HTTP statuses.

use crate::ports::StoreError;

/// One invalid field of a request, as the 422 body lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed or unknown credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// Nothing of that kind with that id in the caller's account.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// No route for the path.
    #[error("no route for {method} {path}")]
    NoRoute { method: String, path: String },
    /// The path exists, not with this method.
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<&'static str> },
    /// The request cannot be parsed (malformed JSON, wrong types, unknown fields, bad cursor).
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Well-formed, but breaks a rule.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    /// Busy (the store throttles, or likes race too long): the client may retry shortly (503).
    #[error("temporarily unavailable")]
    Unavailable,
    /// Anything else. The text goes to the logs, never to the client.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Throttled => Self::Unavailable,
            StoreError::InvalidCursor => {
                Self::BadRequest("cursor is not one this API handed out".into())
            }
            StoreError::Conflict => {
                Self::Conflict("the resource changed concurrently; retry".into())
            }
            StoreError::NotFound => {
                Self::Internal("store reported a missing item unexpectedly".into())
            }
            StoreError::Backend(text) => Self::Internal(text),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
