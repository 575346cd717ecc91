//! How a store call fails, whichever store it is.

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or version condition failed.
    #[error("conflict")]
    Conflict,
    /// The item to change does not exist (any more).
    #[error("not found")]
    NotFound,
    /// The store is throttling; try again later.
    #[error("throttled")]
    Throttled,
    /// The store failed otherwise (unreachable, refused, unreadable item); the text is for logs
    /// only.
    #[error("store failed: {0}")]
    Backend(String),
    /// A cursor that this store did not hand out.
    #[error("invalid cursor")]
    InvalidCursor,
}

pub type StoreResult<T> = Result<T, StoreError>;
