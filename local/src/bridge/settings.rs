//! The mappings `template.yaml` declares, read from the provisioned stack, with the local
//! settings (pollers, timeouts) beside them.

use super::error::BridgeError;
use crate::provision::Stack;
use serde_json::Value;
use std::time::Duration;

/// A stream → function mapping.
#[derive(Debug, Clone)]
pub struct StreamMapping {
    pub function: String,
    /// The function's `Timeout`: a longer invocation fails, as on Lambda.
    pub timeout: Duration,
    pub stream_arn: String,
    pub batch_size: usize,
    /// `None`: retry until the record expires (Lambda's `-1`).
    pub max_retry_attempts: Option<u32>,
    pub max_record_age: Option<Duration>,
    pub bisect_on_error: bool,
    /// Event filter patterns; a record is passed on when any matches (or when there are none).
    pub filters: Vec<Value>,
    pub on_failure_queue_url: Option<String>,
    pub start_at_latest: bool,
    pub poll_interval: Duration,
}

/// An SQS → function mapping.
#[derive(Debug, Clone)]
pub struct QueueMapping {
    pub function: String,
    /// The function's `Timeout`: a longer invocation fails, as on Lambda.
    pub timeout: Duration,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    /// `MaximumBatchingWindowInSeconds`: how long a poller keeps gathering messages for a
    /// batch that is not full yet.
    pub batching_window: Duration,
    pub pollers: usize,
    pub wait_seconds: i32,
}

/// The mappings `template.yaml` declares, resolved against a provisioned stack.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    pub streams: Vec<StreamMapping>,
    pub queues: Vec<QueueMapping>,
}

/// Settings that exist only locally.
#[derive(Debug, Clone, Copy)]
pub struct LocalSettings {
    /// SQS pollers per queue mapping (Lambda scales these itself).
    pub sqs_pollers: usize,
    /// Long-poll wait of each `ReceiveMessage`.
    pub sqs_wait_seconds: i32,
    /// Pause between `GetRecords` calls on a shard: Lambda polls each shard of a DynamoDB
    /// stream 4 times a second.
    pub stream_poll_interval: Duration,
}

impl Default for LocalSettings {
    fn default() -> Self {
        Self {
            sqs_pollers: 2,
            sqs_wait_seconds: 1,
            stream_poll_interval: Duration::from_millis(250),
        }
    }
}

impl Mappings {
    /// Reads every `DynamoDB` and `SQS` event of every function in the stack's template.
    ///
    /// # Errors
    /// A mapping refers to a stream or queue the stack did not create, or has invalid settings.
    pub fn from_stack(stack: &Stack, settings: LocalSettings) -> Result<Self, BridgeError> {
        let mut mappings = Self::default();
        let functions = stack
            .template
            .functions()
            .map_err(|e| BridgeError::Mapping {
                function: "template".into(),
                event: String::new(),
                message: e.to_string(),
            })?;
        for function in functions {
            for (name, event) in &function.events {
                let fail = |message: String| BridgeError::Mapping {
                    function: function.logical_id.clone(),
                    event: name.clone(),
                    message,
                };
                if event.kind != "DynamoDB" && event.kind != "SQS" {
                    continue;
                }
                let properties = stack
                    .context
                    .resolve(&Value::Object(event.properties.clone()))
                    .map_err(|e| fail(e.to_string()))?;
                let number = |key: &str| {
                    properties[key]
                        .as_i64()
                        .or_else(|| properties[key].as_str()?.parse().ok())
                };
                let response_types: Vec<&str> = properties["FunctionResponseTypes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if let Some(bad) = response_types
                    .iter()
                    .find(|t| **t != "ReportBatchItemFailures")
                {
                    return Err(fail(format!(
                        "FunctionResponseTypes has {bad}; the only valid value is ReportBatchItemFailures"
                    )));
                }
                if event.kind == "DynamoDB" {
                    let stream_arn = properties["Stream"]
                        .as_str()
                        .ok_or_else(|| fail("Stream is not resolved".into()))?;
                    let on_failure =
                        properties["DestinationConfig"]["OnFailure"]["Destination"].as_str();
                    let on_failure_queue_url = match on_failure {
                        None => None,
                        Some(arn) => Some(
                            stack
                                .queues
                                .values()
                                .find(|q| q.arn == arn)
                                .map(|q| q.url.clone())
                                .ok_or_else(|| {
                                    fail(format!(
                                        "on-failure destination {arn} is not a local queue"
                                    ))
                                })?,
                        ),
                    };
                    let filters = properties["FilterCriteria"]["Filters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|f| {
                            let pattern = f["Pattern"]
                                .as_str()
                                .ok_or_else(|| fail("a filter has no Pattern".into()))?;
                            serde_json::from_str(pattern)
                                .map_err(|e| fail(format!("filter pattern is not JSON: {e}")))
                        })
                        .collect::<Result<Vec<Value>, _>>()?;
                    mappings.streams.push(StreamMapping {
                        function: function.binary.clone(),
                        timeout: function.timeout,
                        stream_arn: stream_arn.to_owned(),
                        batch_size: usize::try_from(number("BatchSize").unwrap_or(100))
                            .unwrap_or(100)
                            .max(1),
                        max_retry_attempts: number("MaximumRetryAttempts")
                            .and_then(|n| u32::try_from(n).ok()),
                        max_record_age: number("MaximumRecordAgeInSeconds")
                            .and_then(|n| u64::try_from(n).ok())
                            .map(Duration::from_secs),
                        bisect_on_error: properties["BisectBatchOnFunctionError"]
                            .as_bool()
                            .unwrap_or(false),
                        filters,
                        on_failure_queue_url,
                        start_at_latest: properties["StartingPosition"].as_str()
                            != Some("TRIM_HORIZON"),
                        poll_interval: settings.stream_poll_interval,
                    });
                } else {
                    let arn = properties["Queue"]
                        .as_str()
                        .ok_or_else(|| fail("Queue is not resolved".into()))?;
                    let queue = stack
                        .queues
                        .values()
                        .find(|q| q.arn == arn)
                        .ok_or_else(|| fail(format!("queue {arn} is not a local queue")))?;
                    let batch_size = number("BatchSize").unwrap_or(10);
                    if !(1..=10).contains(&batch_size) {
                        return Err(fail(format!("BatchSize {batch_size} is outside 1..=10")));
                    }
                    let window = number("MaximumBatchingWindowInSeconds").unwrap_or(0);
                    if !(0..=300).contains(&window) {
                        return Err(fail(format!(
                            "MaximumBatchingWindowInSeconds {window} is outside 0..=300"
                        )));
                    }
                    mappings.queues.push(QueueMapping {
                        function: function.binary.clone(),
                        timeout: function.timeout,
                        queue_url: queue.url.clone(),
                        queue_arn: queue.arn.clone(),
                        batch_size: i32::try_from(batch_size).unwrap_or(10),
                        batching_window: Duration::from_secs(u64::try_from(window).unwrap_or(0)),
                        pollers: settings.sqs_pollers.max(1),
                        wait_seconds: settings.sqs_wait_seconds,
                    });
                }
            }
        }
        Ok(mappings)
    }
}
