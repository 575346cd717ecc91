//! A recording webhook sender.

use std::sync::Mutex;

/// A webhook sender that records requests and answers with a fixed status, for handler tests.
pub struct RecordingSender {
    pub status: u16,
    /// The `Retry-After` it answers with.
    pub retry_after: Option<std::time::Duration>,
    pub requests: Mutex<Vec<crate::ports::delivery::WebhookRequest>>,
}

impl RecordingSender {
    #[must_use]
    pub fn answering(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            requests: Mutex::new(Vec::new()),
        }
    }
}

impl crate::ports::delivery::WebhookSender for RecordingSender {
    async fn post(
        &self,
        request: &crate::ports::delivery::WebhookRequest,
    ) -> crate::ports::delivery::WebhookResponse {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request.clone());
        crate::ports::delivery::WebhookResponse {
            status: Some(self.status),
            error: None,
            retry_after: self.retry_after,
            body: Some(String::new()),
        }
    }
}
