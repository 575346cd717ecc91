//! `deliver`: the SQS handler on the delivery queue.
//!
//! Signing and posting arrive with the delivery issue. Until then it acknowledges nothing: every
//! message is reported in `batchItemFailures`, so SQS keeps it (and in the end moves it to the
//! dead-letter queue) rather than losing it.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};

/// Handles one SQS batch.
///
/// # Errors
/// None yet; the signature is the one Lambda's runtime expects.
pub async fn handle(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for message in &event.payload.records {
        let Some(id) = &message.message_id else {
            continue;
        };
        tracing::warn!(message_id = %id, "delivery not implemented yet; message kept for retry");
        let mut failure = BatchItemFailure::default();
        failure.item_identifier.clone_from(id);
        response.batch_item_failures.push(failure);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;

    #[tokio::test]
    async fn keeps_every_message() {
        let mut message = SqsMessage::default();
        message.message_id = Some("m-1".into());
        let mut event = SqsEvent::default();
        event.records.push(message);
        let response = handle(LambdaEvent::new(event, lambda_runtime::Context::default()))
            .await
            .unwrap();
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(response.batch_item_failures[0].item_identifier, "m-1");
    }
}
