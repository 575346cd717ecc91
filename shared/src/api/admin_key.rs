//! The deployment's admin key, as the API functions hold it. Behind API Gateway the authorizer
//! vouches for every caller, so an API function needs the key only when it is invoked directly
//! (`sam local invoke`, `cargo lambda invoke`): it is read from its secret then, once, and not
//! at every cold start.

use super::error::{ApiError, ApiResult};
use futures::future::BoxFuture;

/// Reads the key (from its secret); the error text is for logs only.
pub type ReadKey = Box<dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// No key (the function has no admin routes), a known one, or one read on first use.
pub enum AdminKey {
    None,
    Known(String),
    Deferred {
        key: tokio::sync::OnceCell<String>,
        read: ReadKey,
    },
}

impl AdminKey {
    /// A key read by `read` the first time it is needed (and again after a failed read).
    #[must_use]
    pub fn deferred(read: ReadKey) -> Self {
        Self::Deferred {
            key: tokio::sync::OnceCell::new(),
            read,
        }
    }

    /// The key, reading it first when it is deferred.
    ///
    /// # Errors
    /// A deferred key cannot be read (an internal error: the request may be retried).
    pub async fn get(&self) -> ApiResult<Option<&str>> {
        match self {
            Self::None => Ok(None),
            Self::Known(key) => Ok(Some(key)),
            Self::Deferred { key, read } => key
                .get_or_try_init(read)
                .await
                .map(|key| Some(key.as_str()))
                .map_err(|reason| ApiError::Internal(format!("reading the admin key: {reason}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_deferred_key_is_read_once_on_first_use_and_again_after_a_failure() {
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&reads);
        let key = AdminKey::deferred(Box::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n == 0 {
                    Err("unreachable".to_owned())
                } else {
                    Ok("k".repeat(40))
                }
            })
        }));
        assert_eq!(reads.load(Ordering::SeqCst), 0, "nothing read before use");
        assert!(matches!(key.get().await, Err(ApiError::Internal(_))));
        assert_eq!(key.get().await.unwrap(), Some("k".repeat(40).as_str()));
        assert_eq!(key.get().await.unwrap(), Some("k".repeat(40).as_str()));
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert_eq!(AdminKey::None.get().await.unwrap(), None);
        assert_eq!(AdminKey::Known("x".into()).get().await.unwrap(), Some("x"));
    }
}
