//! A recording webhook sender.

use std::sync::Mutex;

/// A webhook sender that records requests and answers with a fixed status (or one per URL),
/// for handler tests. Its body names the status.
pub struct RecordingSender {
    pub status: u16,
    /// Statuses for some URLs instead of `status`.
    pub by_url: Vec<(String, u16)>,
    /// The `Retry-After` it answers with.
    pub retry_after: Option<std::time::Duration>,
    pub requests: Mutex<Vec<crate::ports::delivery::WebhookRequest>>,
}

impl RecordingSender {
    #[must_use]
    pub fn answering(status: u16) -> Self {
        Self {
            status,
            by_url: Vec::new(),
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
        let status = self
            .by_url
            .iter()
            .find(|(url, _)| *url == request.url)
            .map_or(self.status, |(_, status)| *status);
        crate::ports::delivery::WebhookResponse {
            status: Some(status),
            error: None,
            retry_after: self.retry_after,
            body: Some(format!("answered {status}")),
        }
    }
}
