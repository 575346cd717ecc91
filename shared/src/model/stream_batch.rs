//! A stream batch a function gave up on, as Lambda's event source mapping describes it to the
//! mapping's on-failure destination: where its records are in the stream, not the records.

use serde::Deserialize;

/// The records of one shard from `start_sequence_number` to `end_sequence_number`, both
/// included (`DDBStreamBatchInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamBatch {
    pub stream_arn: String,
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
}

/// Lambda's on-failure record of a DynamoDB stream batch (the body of an on-failure message).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StreamFailure {
    #[serde(rename = "DDBStreamBatchInfo")]
    pub batch: StreamBatch,
}

impl StreamBatch {
    /// Whether the record with sequence number `sequence` comes after the batch's last.
    /// Sequence numbers are decimal numbers of any length.
    #[must_use]
    pub fn ends_before(&self, sequence: &str) -> bool {
        let key = |s: &str| {
            let digits = s.trim_start_matches('0');
            (digits.len(), digits.to_owned())
        };
        key(sequence) > key(&self.end_sequence_number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Lambda's developer guide ("Retaining discarded records for a DynamoDB
    /// event source"), shortened to what is read.
    const ON_FAILURE: &str = r#"{
        "requestContext": {
            "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:49.717Z",
        "DDBStreamBatchInfo": {
            "shardId": "shardId-00000001573689847184-864758bb",
            "startSequenceNumber": "800000000003126276362",
            "endSequenceNumber": "800000000003126276362",
            "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
            "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
            "batchSize": 1,
            "streamArn": "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
        }
    }"#;

    #[test]
    fn lambdas_on_failure_record_names_the_batch() {
        let failure: StreamFailure = serde_json::from_str(ON_FAILURE).unwrap();
        assert_eq!(
            failure.batch,
            StreamBatch {
                stream_arn: "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388".into(),
                shard_id: "shardId-00000001573689847184-864758bb".into(),
                start_sequence_number: "800000000003126276362".into(),
                end_sequence_number: "800000000003126276362".into(),
            }
        );
    }

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        let batch = StreamBatch {
            stream_arn: String::new(),
            shard_id: String::new(),
            start_sequence_number: "000000000000000000950".into(),
            end_sequence_number: "000000000000000001000".into(),
        };
        assert!(!batch.ends_before("000000000000000000999"));
        assert!(!batch.ends_before("1000"));
        assert!(batch.ends_before("000000000000000001001"));
        assert!(batch.ends_before("10000"));
        assert!(!batch.ends_before("999"));
    }
}
