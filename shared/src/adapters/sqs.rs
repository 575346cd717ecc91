//! The delivery queue on SQS.

use crate::delivery::{DeliveryMessage, DeliveryQueue, QueueError};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::time::Duration;

/// Tries per batch before giving up on entries SQS keeps refusing.
const BATCH_TRIES: usize = 5;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    #[must_use]
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

fn unavailable(error: &dyn std::error::Error) -> QueueError {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    QueueError::Unavailable(text)
}

impl DeliveryQueue for SqsQueue {
    async fn send(&self, messages: &[DeliveryMessage]) -> Result<(), QueueError> {
        for chunk in messages.chunks(10) {
            let mut pending: Vec<(String, String)> = chunk
                .iter()
                .enumerate()
                .map(|(index, message)| {
                    serde_json::to_string(message)
                        .map(|body| (index.to_string(), body))
                        .map_err(|e| QueueError::Unavailable(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            for attempt in 0..BATCH_TRIES {
                let entries = pending
                    .iter()
                    .map(|(id, body)| {
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(body)
                            .build()
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| unavailable(&e))?;
                let output = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| unavailable(&e))?;
                let failed: Vec<String> = output.failed.iter().map(|f| f.id.clone()).collect();
                pending.retain(|(id, _)| failed.contains(id));
                if pending.is_empty() {
                    break;
                }
                tracing::warn!(
                    failed = pending.len(),
                    attempt,
                    "SendMessageBatch refused entries; retrying them"
                );
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            if !pending.is_empty() {
                return Err(QueueError::Unavailable(format!(
                    "{} messages refused {BATCH_TRIES} times",
                    pending.len()
                )));
            }
        }
        Ok(())
    }

    async fn delay(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        let seconds = i32::try_from(delay.as_secs())
            .unwrap_or(i32::MAX)
            .min(43_200);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }
}
