//! Stream records as Lambda hands them over, the template's filter patterns, and where a
//! partial batch failure restarts.

use aws_sdk_dynamodbstreams::types::Record;
use serde_json::Value;

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
