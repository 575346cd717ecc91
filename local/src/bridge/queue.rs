//! The SQS → function mapping: long-polling pollers, deletes of only what succeeded.

use super::settings::QueueMapping;
use crate::invoke::{Invoker, invoke_within};
use crate::provision::Clients;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::{Value, json};
use shared::adapters::error_chain;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub(super) struct QueuePoller<I> {
    pub(super) clients: Clients,
    pub(super) mapping: Arc<QueueMapping>,
    pub(super) invoker: Arc<I>,
}

impl<I: Invoker> QueuePoller<I> {
    pub(super) async fn run(self) {
        loop {
            if let Err(error) = self.poll_once().await {
                tracing::warn!(queue = %self.mapping.queue_url, %error, "queue poll failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// One `ReceiveMessage` of up to `wanted` messages, waiting up to `wait_seconds`.
    async fn receive(
        &self,
        wanted: i32,
        wait_seconds: i32,
    ) -> Result<Vec<aws_sdk_sqs::types::Message>, String> {
        let received = self
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.mapping.queue_url)
            .max_number_of_messages(wanted)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| format!("ReceiveMessage: {}", error_chain(&e)))?;
        Ok(received.messages.unwrap_or_default())
    }

    pub(super) async fn poll_once(&self) -> Result<(), String> {
        let mut messages = self
            .receive(self.mapping.batch_size, self.mapping.wait_seconds)
            .await?;
        if messages.is_empty() {
            return Ok(());
        }
        // Within the batching window, gather more until the batch is full.
        let window_ends = std::time::Instant::now() + self.mapping.batching_window;
        let batch_size = usize::try_from(self.mapping.batch_size).unwrap_or(10);
        while messages.len() < batch_size {
            let left = window_ends.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let wanted = i32::try_from(batch_size - messages.len()).unwrap_or(1);
            // A receive is never cut short (it would hide what it got): long-poll whole seconds
            // that fit the window, and for the rest wait, then take what came.
            let wait = i32::try_from(left.as_secs()).unwrap_or(0);
            if wait == 0 {
                tokio::time::sleep(left).await;
            }
            let more = self.receive(wanted, wait).await?;
            let done = wait == 0;
            messages.extend(more);
            if done {
                break;
            }
        }
        let records: Vec<Value> = messages.iter().map(|m| self.lambda_message(m)).collect();
        let failed: HashSet<String> = match invoke_within(
            &*self.invoker,
            &self.mapping.function,
            self.mapping.timeout,
            json!({ "Records": records }),
        )
        .await
        {
            Ok(response) => {
                let ids: HashSet<&str> = messages
                    .iter()
                    .filter_map(|m| m.message_id.as_deref())
                    .collect();
                let listed: Vec<String> = response["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
                    .collect();
                if listed.iter().all(|id| ids.contains(id.as_str())) {
                    listed.into_iter().collect()
                } else {
                    tracing::warn!(function = %self.mapping.function, "batchItemFailures names an unknown id: the whole batch failed");
                    ids.iter().map(|id| (*id).to_owned()).collect()
                }
            }
            Err(error) => {
                tracing::warn!(%error, "SQS batch invocation failed: every message will be retried");
                return Ok(());
            }
        };
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.message_id.as_ref().is_some_and(|id| !failed.contains(id)))
            .filter_map(|(index, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        if entries.is_empty() {
            return Ok(());
        }
        let deleted = self
            .clients
            .sqs
            .delete_message_batch()
            .queue_url(&self.mapping.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| format!("DeleteMessageBatch: {}", error_chain(&e)))?;
        if !deleted.failed.is_empty() {
            tracing::warn!(
                failed = deleted.failed.len(),
                "some processed messages could not be deleted; they will be redelivered"
            );
        }
        Ok(())
    }

    /// A message in the JSON shape Lambda hands to functions.
    pub(super) fn lambda_message(&self, message: &aws_sdk_sqs::types::Message) -> Value {
        let attributes: serde_json::Map<String, Value> = message
            .attributes
            .iter()
            .flatten()
            .map(|(name, value)| (name.as_str().to_owned(), Value::String(value.clone())))
            .collect();
        let message_attributes: serde_json::Map<String, Value> = message
            .message_attributes
            .iter()
            .flatten()
            .map(|(name, value)| {
                use base64::Engine as _;
                let encode = |b: &aws_sdk_sqs::primitives::Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
                (
                    name.clone(),
                    json!({
                        "stringValue": value.string_value,
                        "binaryValue": value.binary_value.as_ref().map(encode),
                        "stringListValues": value.string_list_values.clone().unwrap_or_default(),
                        "binaryListValues": value.binary_list_values.iter().flatten().map(encode).collect::<Vec<_>>(),
                        "dataType": value.data_type,
                    }),
                )
            })
            .collect();
        json!({
            "messageId": message.message_id,
            "receiptHandle": message.receipt_handle,
            "body": message.body,
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": message.md5_of_body,
            "md5OfMessageAttributes": message.md5_of_message_attributes,
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self.clients.region,
        })
    }
}
