//! The pure parts of the mappings: filters, and where a partial failure restarts.

use super::records::*;
use serde_json::{Value, json};

fn record(sequence: &str, event_name: &str, entity: &str) -> Value {
    json!({
        "eventName": event_name,
        "dynamodb": {"SequenceNumber": sequence, "NewImage": {"entity": {"S": entity}}}
    })
}

#[test]
fn template_filter_keeps_only_event_inserts() {
    let pattern: Value = serde_json::from_str(
        r#"{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["event"]}}}}"#,
    )
    .unwrap();
    assert!(filter_matches(&pattern, &record("1", "INSERT", "event")));
    assert!(!filter_matches(&pattern, &record("1", "MODIFY", "event")));
    assert!(!filter_matches(&pattern, &record("1", "INSERT", "user")));
    assert!(!filter_matches(
        &pattern,
        &json!({"eventName": "INSERT", "dynamodb": {}})
    ));
}

#[test]
fn filter_matchers() {
    let data = json!({"a": "order.created", "n": 3});
    assert!(filter_matches(&json!({"a": [{"prefix": "order."}]}), &data));
    assert!(!filter_matches(&json!({"a": [{"prefix": "user."}]}), &data));
    assert!(filter_matches(&json!({"b": [{"exists": false}]}), &data));
    assert!(filter_matches(
        &json!({"n": [{"anything-but": [4]}]}),
        &data
    ));
    assert!(!filter_matches(
        &json!({"n": [{"anything-but": [3]}]}),
        &data
    ));
}

#[test]
fn retry_starts_at_the_lowest_failed_sequence_number() {
    let batch: Vec<Value> = ["10", "20", "30", "40"]
        .iter()
        .map(|s| record(s, "INSERT", "event"))
        .collect();
    let response = |ids: &[&str]| json!({"batchItemFailures": ids.iter().map(|i| json!({"itemIdentifier": i})).collect::<Vec<_>>()});
    assert_eq!(
        first_failed_index(&json!({"batchItemFailures": []}), &batch),
        None
    );
    assert_eq!(first_failed_index(&Value::Null, &batch), None);
    assert_eq!(
        first_failed_index(&response(&["40", "20"]), &batch),
        Some(1)
    );
    assert_eq!(
        first_failed_index(&response(&["99"]), &batch),
        Some(0),
        "unknown id fails the whole batch"
    );
    assert_eq!(
        first_failed_index(&response(&[""]), &batch),
        Some(0),
        "empty id fails the whole batch"
    );
}
