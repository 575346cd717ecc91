//! Stream records as Lambda hands them over, the template's filter patterns, and where a
//! partial batch failure restarts.

use aws_sdk_dynamodbstreams::types::Record;
use serde_json::{Value, json};

pub(super) fn last_sequence(records: &[Record]) -> Option<String> {
    records
        .last()
        .and_then(|r| r.dynamodb.as_ref())
        .and_then(|c| c.sequence_number.clone())
}

/// Index of the record to retry from: the lowest failed sequence number; 0 (the whole batch)
/// when a failure names nothing or something not in the batch, as Lambda treats it.
pub(super) fn first_failed_index(response: &Value, batch: &[Value]) -> Option<usize> {
    let failures = response["batchItemFailures"]
        .as_array()
        .filter(|f| !f.is_empty())?;
    let mut lowest = usize::MAX;
    for failure in failures {
        let id = failure["itemIdentifier"].as_str().unwrap_or_default();
        match batch
            .iter()
            .position(|r| r["dynamodb"]["SequenceNumber"].as_str() == Some(id))
        {
            Some(index) if !id.is_empty() => lowest = lowest.min(index),
            _ => return Some(0),
        }
    }
    Some(lowest)
}

/// A stream record in the JSON shape Lambda hands to functions.
pub(super) fn lambda_record(record: &Record, stream_arn: &str, region: &str) -> Value {
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

/// Lambda event filtering, for the pattern forms templates use: nested objects, lists of exact
/// values, and `{"prefix": …}`, `{"exists": …}`, `{"anything-but": […]}` matchers.
#[must_use]
pub fn filter_matches(pattern: &Value, data: &Value) -> bool {
    let Some(pattern) = pattern.as_object() else {
        return false;
    };
    pattern.iter().all(|(key, expected)| {
        let actual = data.get(key);
        match expected {
            Value::Object(_) => {
                actual.is_some_and(|a| a.is_object() && filter_matches(expected, a))
            }
            Value::Array(options) => options.iter().any(|option| value_matches(option, actual)),
            _ => false,
        }
    })
}

pub(super) fn value_matches(option: &Value, actual: Option<&Value>) -> bool {
    match option {
        Value::Object(matcher) => {
            if let Some(exists) = matcher.get("exists").and_then(Value::as_bool) {
                return actual.is_some() == exists;
            }
            if let Some(prefix) = matcher.get("prefix").and_then(Value::as_str) {
                return actual
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.starts_with(prefix));
            }
            if let Some(excluded) = matcher.get("anything-but") {
                let excluded = excluded
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| vec![excluded.clone()]);
                return actual.is_some_and(|a| !excluded.contains(a));
            }
            false
        }
        Value::Null => actual.is_none_or(Value::is_null),
        literal => actual == Some(literal),
    }
}

// ------------------------------------------------------------------------------------ queues
