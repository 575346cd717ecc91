//! The delivery queue on SQS.

use crate::domain::retry::{MAX_DELAY, MAX_MESSAGE_DELAY};
use crate::model::delivery::DeliveryMessage;
use crate::ports::delivery::{DeliveryQueue, QueueError, Redrive};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, QueueAttributeName, SendMessageBatchRequestEntry,
};
use std::time::Duration;

/// Tries per batch before giving up on entries SQS keeps refusing.
const BATCH_TRIES: usize = 5;
/// `SendMessageBatch` calls in flight at once.
const SENDS_IN_FLIGHT: usize = 16;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
    dead_letter_url: Option<String>,
}

impl SqsQueue {
    #[must_use]
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
            dead_letter_url: None,
        }
    }
}

impl SqsQueue {
    /// With its dead-letter queue, for redrives.
    #[must_use]
    pub fn with_dead_letters(mut self, url: impl Into<String>) -> Self {
        self.dead_letter_url = Some(url.into());
        self
    }

    async fn attribute(&self, url: &str, name: QueueAttributeName) -> Result<String, QueueError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .map_err(|e| backend(&e))?;
        output
            .attributes
            .and_then(|mut a| a.remove(&name))
            .ok_or_else(|| QueueError::Backend(format!("{url} has no {name}")))
    }

    /// Receive, send, delete: for services without `StartMessageMoveTask` (the local emulator).
    async fn copy_back(&self, dead_letters: &str, max: usize) -> Result<u64, QueueError> {
        let mut moved = 0u64;
        while usize::try_from(moved).unwrap_or(usize::MAX) < max {
            let received = self
                .client
                .receive_message()
                .queue_url(dead_letters)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(|e| backend(&e))?;
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let entries: Vec<(String, String)> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| (i.to_string(), m.body.clone().unwrap_or_default()))
                .collect();
            let failed = self.send_batch(&entries).await?;
            // Delete only what was sent; the rest stays dead-lettered for the next redrive.
            let deletions = messages
                .iter()
                .enumerate()
                .filter(|(i, _)| !failed.contains(&i.to_string()))
                .map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .set_receipt_handle(m.receipt_handle.clone())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| backend(&e))?;
            moved += u64::try_from(deletions.len()).unwrap_or(0);
            if !deletions.is_empty() {
                self.client
                    .delete_message_batch()
                    .queue_url(dead_letters)
                    .set_entries(Some(deletions))
                    .send()
                    .await
                    .map_err(|e| backend(&e))?;
            }
        }
        Ok(moved)
    }
}

impl SqsQueue {
    /// One `SendMessageBatch` of `(entry id, body)` to the delivery queue; the ids of the
    /// entries SQS refused.
    async fn send_batch(&self, entries: &[(String, String)]) -> Result<Vec<String>, QueueError> {
        let entries = entries
            .iter()
            .map(|(id, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(id)
                    .message_body(body)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| backend(&e))?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| backend(&e))?;
        Ok(output.failed.into_iter().map(|f| f.id).collect())
    }

    /// Sends one message to `url`, visible after `delay` (SQS allows at most 15 min).
    async fn send_one(
        &self,
        url: &str,
        message: &DeliveryMessage,
        delay: Duration,
    ) -> Result<(), QueueError> {
        let body =
            serde_json::to_string(message).map_err(|e| QueueError::Backend(e.to_string()))?;
        let seconds = delay.min(MAX_MESSAGE_DELAY).as_secs();
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .delay_seconds(i32::try_from(seconds).unwrap_or(0))
            .send()
            .await
            .map_err(|e| backend(&e))?;
        Ok(())
    }

    /// Sends up to 10 messages, retrying the entries SQS reports as failed.
    async fn send_chunk(&self, chunk: &[DeliveryMessage]) -> Result<(), QueueError> {
        {
            let mut pending: Vec<(String, String)> = chunk
                .iter()
                .enumerate()
                .map(|(index, message)| {
                    serde_json::to_string(message)
                        .map(|body| (index.to_string(), body))
                        .map_err(|e| QueueError::Backend(e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            for attempt in 0..BATCH_TRIES {
                let failed = self.send_batch(&pending).await?;
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
                return Err(QueueError::Backend(format!(
                    "{} messages refused {BATCH_TRIES} times",
                    pending.len()
                )));
            }
        }
        Ok(())
    }
}

fn backend(error: &dyn std::error::Error) -> QueueError {
    QueueError::Backend(super::error_chain(error))
}

impl DeliveryQueue for SqsQueue {
    async fn send(&self, messages: &[DeliveryMessage]) -> Result<(), QueueError> {
        use futures::StreamExt as _;
        // SQS calls are latency-bound: keep several batches in flight.
        let sends: Vec<_> = messages
            .chunks(10)
            .map(|chunk| self.send_chunk(chunk))
            .collect();
        let mut results = futures::stream::iter(sends).buffer_unordered(SENDS_IN_FLIGHT);
        while let Some(result) = results.next().await {
            result?;
        }
        Ok(())
    }

    async fn redrive(&self, max: usize) -> Result<Redrive, QueueError> {
        let dead_letters = self
            .dead_letter_url
            .clone()
            .ok_or_else(|| QueueError::Backend("no dead-letter queue configured".into()))?;
        let source = self
            .attribute(&dead_letters, QueueAttributeName::QueueArn)
            .await?;
        let destination = self
            .attribute(&self.url, QueueAttributeName::QueueArn)
            .await?;
        let waiting: u64 = self
            .attribute(
                &dead_letters,
                QueueAttributeName::ApproximateNumberOfMessages,
            )
            .await?
            .parse()
            .unwrap_or(0);
        let task = self
            .client
            .start_message_move_task()
            .source_arn(source)
            .destination_arn(destination)
            .send()
            .await;
        match task {
            Ok(_) => Ok(Redrive {
                method: "move_task",
                messages: waiting,
            }),
            Err(error) => {
                tracing::info!(error = %backend(&error), "StartMessageMoveTask unavailable; copying messages back");
                Ok(Redrive {
                    method: "copy",
                    messages: self.copy_back(&dead_letters, max).await?,
                })
            }
        }
    }

    async fn send_later(
        &self,
        message: &DeliveryMessage,
        delay: Duration,
    ) -> Result<(), QueueError> {
        self.send_one(&self.url, message, delay).await
    }

    async fn dead_letter(&self, message: &DeliveryMessage) -> Result<(), QueueError> {
        let dead_letters = self
            .dead_letter_url
            .as_deref()
            .ok_or_else(|| QueueError::Backend("no dead-letter queue configured".into()))?;
        self.send_one(dead_letters, message, Duration::ZERO).await
    }

    async fn delay(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        let seconds = i32::try_from(delay.as_secs())
            .unwrap_or(i32::MAX)
            .min(i32::try_from(MAX_DELAY.as_secs()).unwrap_or(i32::MAX));
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| backend(&e))?;
        Ok(())
    }
}
