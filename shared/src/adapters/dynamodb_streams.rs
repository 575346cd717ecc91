//! [`StreamReader`] on DynamoDB Streams, and stream records in the JSON shape Lambda hands to
//! functions (which devstack's event source mappings use too).

use crate::model::StreamBatch;
use crate::ports::streams::StreamReader;
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use serde_json::{Value, json};

/// Pages read at most for one batch (each up to 1,000 records; a batch has at most 10,000).
const MAX_PAGES: usize = 50;

/// Reads stream batches again with the DynamoDB Streams API.
#[derive(Clone)]
pub struct DynamoStreams {
    client: aws_sdk_dynamodbstreams::Client,
    region: String,
}

impl DynamoStreams {
    #[must_use]
    pub fn new(client: aws_sdk_dynamodbstreams::Client, region: impl Into<String>) -> Self {
        Self {
            client,
            region: region.into(),
        }
    }
}

fn backend(what: &str, error: &dyn std::error::Error) -> StoreError {
    StoreError::Backend(format!("{what}: {}", super::error_chain(error)))
}

impl StreamReader for DynamoStreams {
    async fn read(&self, batch: &StreamBatch) -> StoreResult<Vec<Value>> {
        let mut iterator = self
            .client
            .get_shard_iterator()
            .stream_arn(&batch.stream_arn)
            .shard_id(&batch.shard_id)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .sequence_number(&batch.start_sequence_number)
            .send()
            .await
            .map_err(|e| backend("GetShardIterator", &e))?
            .shard_iterator
            .ok_or_else(|| StoreError::Backend("GetShardIterator returned none".into()))?;
        let mut records = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(1000)
                .send()
                .await
                .map_err(|e| backend("GetRecords", &e))?;
            for record in page.records.unwrap_or_default() {
                let sequence = record
                    .dynamodb
                    .as_ref()
                    .and_then(|c| c.sequence_number.as_deref())
                    .unwrap_or_default();
                if batch.ends_before(sequence) {
                    return Ok(records);
                }
                let last = sequence == batch.end_sequence_number;
                records.push(lambda_record(&record, &batch.stream_arn, &self.region));
                if last {
                    return Ok(records);
                }
            }
            match page.next_shard_iterator {
                Some(next) => iterator = next,
                // The shard is closed and read to its end.
                None => return Ok(records),
            }
        }
        Err(StoreError::Backend(format!(
            "{MAX_PAGES} pages read without reaching sequence number {}",
            batch.end_sequence_number
        )))
    }
}

/// A stream record in the JSON shape Lambda hands to functions.
#[must_use]
pub fn lambda_record(record: &Record, stream_arn: &str, region: &str) -> Value {
    let image = |item: Option<
        &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
    >| {
        item.map(|item| {
            serde_json::to_value(serde_dynamo::Item::from(item.clone())).unwrap_or(Value::Null)
        })
    };
    let change = record.dynamodb.as_ref();
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.and_then(|c| c.approximate_creation_date_time).map_or(0.0, |t| t.as_secs_f64()),
        "Keys": image(change.and_then(|c| c.keys.as_ref())),
        "SequenceNumber": change.and_then(|c| c.sequence_number.clone()),
        "SizeBytes": change.and_then(|c| c.size_bytes).unwrap_or_default(),
        "StreamViewType": change.and_then(|c| c.stream_view_type.as_ref()).map(|v| v.as_str().to_owned()),
    });
    if let Some(new_image) = image(change.and_then(|c| c.new_image.as_ref())) {
        dynamodb["NewImage"] = new_image;
    }
    if let Some(old_image) = image(change.and_then(|c| c.old_image.as_ref())) {
        dynamodb["OldImage"] = old_image;
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str().to_owned()),
        "eventVersion": record.event_version.clone().unwrap_or_else(|| "1.1".into()),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
        "dynamodb": dynamodb,
    })
}
