//! `fanout`: the DynamoDB Streams handler on the events table.
//!
//! It sees every record of the stream batch Lambda hands it and picks out the event inserts.
//! Enqueueing one delivery per matching subscription arrives with the fan-out issue; until then
//! it reports no failure, so the stream moves on.

use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent};

/// Whether a stream record is the insert of an event item (the outbox row).
#[must_use]
pub fn is_event_insert(record: &EventRecord) -> bool {
    record.event_name == "INSERT"
        && record.change.new_image.get("entity").is_some_and(
            |value| matches!(value, serde_dynamo::AttributeValue::S(s) if s == "event"),
        )
}

/// Handles one stream batch.
///
/// # Errors
/// None yet; the signature is the one Lambda's runtime expects.
pub async fn handle(event: LambdaEvent<DynamoDbEvent>) -> Result<DynamoDbEventResponse, Error> {
    let records = &event.payload.records;
    let inserts = records
        .iter()
        .filter(|record| is_event_insert(record))
        .count();
    tracing::info!(
        records = records.len(),
        event_inserts = inserts,
        "stream batch received"
    );
    Ok(DynamoDbEventResponse::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event_name: &str, entity: &str) -> EventRecord {
        let json = serde_json::json!({
            "awsRegion": "us-east-1",
            "eventID": "1",
            "eventName": event_name,
            "dynamodb": {
                "Keys": {"pk": {"S": "a"}, "sk": {"S": "b"}},
                "NewImage": {"pk": {"S": "a"}, "sk": {"S": "b"}, "entity": {"S": entity}},
                "SequenceNumber": "100",
                "SizeBytes": 10,
                "StreamViewType": "NEW_IMAGE"
            }
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn only_inserted_events_count() {
        assert!(is_event_insert(&record("INSERT", "event")));
        assert!(!is_event_insert(&record("MODIFY", "event")));
        assert!(!is_event_insert(&record("INSERT", "user")));
    }
}
