//! Lambda's event source mappings, locally: the DynamoDB stream → `fanout` and SQS → `deliver`
//! triggers that AWS runs and neither emulator does.
//!
//! Behaviour follows Lambda's documentation for the settings `template.yaml` uses:
//! - Streams: each shard read in order from `LATEST` at start (shards that appear later from
//!   `TRIM_HORIZON`), records outside `FilterCriteria` dropped, batches of `BatchSize`. A
//!   `batchItemFailures` response checkpoints before the lowest failed sequence number and
//!   retries from there; a failed invocation is retried, bisected when
//!   `BisectBatchOnFunctionError` is on. After `MaximumRetryAttempts` (or past
//!   `MaximumRecordAgeInSeconds`) the batch is described to the on-failure queue and skipped.
//! - SQS: long-polling pollers receive up to `BatchSize` (≤ 10) messages; only the messages not
//!   listed in `batchItemFailures` are deleted; the rest reappear after their visibility
//!   timeout. A failed invocation, or a response naming an unknown id, deletes nothing.

use crate::invoke::{InvokeError, Invoker, invoke_within};
use crate::provision::{Clients, Stack};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::{Value, json};
use shared::error::error_chain;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("{function}.{event}: {message}")]
    Mapping {
        function: String,
        event: String,
        message: String,
    },
    #[error("stream {stream}: {message}")]
    Stream { stream: String, message: String },
}

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
    /// Pause between `GetRecords` calls on a shard that returned nothing.
    pub stream_poll_interval: Duration,
}

impl Default for LocalSettings {
    fn default() -> Self {
        Self {
            sqs_pollers: 2,
            sqs_wait_seconds: 1,
            stream_poll_interval: Duration::from_millis(100),
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
                    mappings.queues.push(QueueMapping {
                        function: function.binary.clone(),
                        timeout: function.timeout,
                        queue_url: queue.url.clone(),
                        queue_arn: queue.arn.clone(),
                        batch_size: i32::try_from(batch_size).unwrap_or(10),
                        pollers: settings.sqs_pollers.max(1),
                        wait_seconds: settings.sqs_wait_seconds,
                    });
                }
            }
        }
        Ok(mappings)
    }
}

/// The running pollers; dropping it stops them.
pub struct Bridge {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Bridge {
    /// Starts every mapping. Returns once each stream mapping holds its shard iterators, so a
    /// write made after this returns is seen (streams start at `LATEST`).
    ///
    /// # Errors
    /// A stream cannot be described.
    pub async fn start<I: Invoker>(
        clients: &Clients,
        mappings: Mappings,
        invoker: Arc<I>,
    ) -> Result<Self, BridgeError> {
        let mut tasks = Vec::new();
        for mapping in mappings.streams {
            let mut poller = StreamPoller::new(clients.clone(), mapping, Arc::clone(&invoker));
            poller.discover(true).await?;
            tasks.push(tokio::spawn(async move { poller.run().await }));
        }
        for mapping in mappings.queues {
            let mapping = Arc::new(mapping);
            for _ in 0..mapping.pollers {
                let poller = QueuePoller {
                    clients: clients.clone(),
                    mapping: Arc::clone(&mapping),
                    invoker: Arc::clone(&invoker),
                };
                tasks.push(tokio::spawn(async move { poller.run().await }));
            }
        }
        Ok(Self { tasks })
    }
}

// ------------------------------------------------------------------------------------ streams

struct Shard {
    iterator: Option<String>,
    /// The last record read from the shard (handed on, or skipped as existing before start).
    last_sequence: Option<String>,
}

struct StreamPoller<I> {
    clients: Clients,
    mapping: StreamMapping,
    invoker: Arc<I>,
    shards: BTreeMap<String, Shard>,
    finished: HashSet<String>,
}

impl<I: Invoker> StreamPoller<I> {
    fn new(clients: Clients, mapping: StreamMapping, invoker: Arc<I>) -> Self {
        Self {
            clients,
            mapping,
            invoker,
            shards: BTreeMap::new(),
            finished: HashSet::new(),
        }
    }

    fn stream_error(&self, message: String) -> BridgeError {
        BridgeError::Stream {
            stream: self.mapping.stream_arn.clone(),
            message,
        }
    }

    /// Finds shards not seen yet. At start, open shards are read from the configured position
    /// and closed ones are ignored; shards found later (children of a split) from the start.
    async fn discover(&mut self, initial: bool) -> Result<(), BridgeError> {
        let mut start: Option<String> = None;
        loop {
            let described = self
                .clients
                .streams
                .describe_stream()
                .stream_arn(&self.mapping.stream_arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .map_err(|e| self.stream_error(format!("DescribeStream: {}", error_chain(&e))))?;
            let Some(description) = described.stream_description else {
                return Ok(());
            };
            for shard in description.shards.unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                if self.shards.contains_key(&id) || self.finished.contains(&id) {
                    continue;
                }
                let closed = shard
                    .sequence_number_range
                    .as_ref()
                    .and_then(|r| r.ending_sequence_number.as_ref())
                    .is_some();
                if initial && closed {
                    self.finished.insert(id);
                    continue;
                }
                let mut shard = Shard {
                    iterator: Some(
                        self.iterator(&id, ShardIteratorType::TrimHorizon, None)
                            .await?,
                    ),
                    last_sequence: None,
                };
                if initial && self.mapping.start_at_latest {
                    // LATEST, emulated: skip every record already in the shard. DynamoDB Local's
                    // own LATEST iterators point at a global sequence number and fail with
                    // TrimmedDataAccessException once other tables have written.
                    while let Some(iterator) = shard.iterator.clone() {
                        let page = self.get_records(iterator).await.map_err(|e| {
                            self.stream_error(format!("GetRecords: {}", error_chain(&e)))
                        })?;
                        let records = page.records.unwrap_or_default();
                        if let Some(last) = last_sequence(&records) {
                            shard.last_sequence = Some(last);
                        }
                        shard.iterator = page.next_shard_iterator;
                        if records.is_empty() {
                            break;
                        }
                    }
                }
                self.shards.insert(id, shard);
            }
            match description.last_evaluated_shard_id {
                Some(last) => start = Some(last),
                None => return Ok(()),
            }
        }
    }

    async fn iterator(
        &self,
        shard: &str,
        kind: ShardIteratorType,
        after: Option<&str>,
    ) -> Result<String, BridgeError> {
        let kind = if after.is_some() {
            ShardIteratorType::AfterSequenceNumber
        } else {
            kind
        };
        self.clients
            .streams
            .get_shard_iterator()
            .stream_arn(&self.mapping.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(after.map(str::to_owned))
            .send()
            .await
            .map_err(|e| self.stream_error(format!("GetShardIterator: {}", error_chain(&e))))?
            .shard_iterator
            .ok_or_else(|| self.stream_error(format!("GetShardIterator returned none for {shard}")))
    }

    async fn get_records(
        &self,
        iterator: String,
    ) -> Result<
        aws_sdk_dynamodbstreams::operation::get_records::GetRecordsOutput,
        aws_sdk_dynamodbstreams::error::SdkError<
            aws_sdk_dynamodbstreams::operation::get_records::GetRecordsError,
        >,
    > {
        let request = self.clients.streams.get_records().shard_iterator(iterator);
        request.limit(1000).send().await
    }

    async fn run(mut self) {
        let mut idle_rounds: u32 = 0;
        loop {
            let mut got_records = false;
            let ids: Vec<String> = self.shards.keys().cloned().collect();
            for id in ids {
                match self.poll_shard(&id).await {
                    Ok(count) => got_records |= count > 0,
                    Err(error) => {
                        tracing::warn!(shard = %id, %error, "stream poll failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            idle_rounds = if got_records { 0 } else { idle_rounds + 1 };
            // Look for new shards now and then, and whenever a shard has ended.
            if idle_rounds % 20 == 19 || self.shards.values().any(|s| s.iterator.is_none()) {
                self.shards.retain(|id, shard| {
                    if shard.iterator.is_none() {
                        self.finished.insert(id.clone());
                    }
                    shard.iterator.is_some()
                });
                if let Err(error) = self.discover(false).await {
                    tracing::warn!(%error, "stream discovery failed; retrying");
                }
            }
            if !got_records {
                tokio::time::sleep(self.mapping.poll_interval).await;
            }
        }
    }

    /// Reads one page of a shard and hands it on in batches; returns how many records it read.
    async fn poll_shard(&mut self, id: &str) -> Result<usize, String> {
        let Some(iterator) = self.shards.get(id).and_then(|s| s.iterator.clone()) else {
            return Ok(0);
        };
        let page = match self.get_records(iterator).await {
            Ok(page) => page,
            Err(error) => {
                let expired = error.as_service_error().is_some_and(|e| {
                    e.is_trimmed_data_access_exception() || e.is_expired_iterator_exception()
                });
                if !expired {
                    return Err(format!("GetRecords: {}", error_chain(&error)));
                }
                // Take up again right after the last record read (DynamoDB Local reports
                // iterators taken before other tables wrote as trimmed; AWS expires them).
                let after = self.shards.get(id).and_then(|s| s.last_sequence.clone());
                let fresh = self
                    .iterator(id, ShardIteratorType::TrimHorizon, after.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                if let Some(shard) = self.shards.get_mut(id) {
                    shard.iterator = Some(fresh);
                }
                return Ok(0);
            }
        };
        let raw = page.records.unwrap_or_default();
        let last = last_sequence(&raw);
        let records: Vec<Value> = raw
            .iter()
            .map(|r| lambda_record(r, &self.mapping.stream_arn, &self.clients.region))
            .collect();
        let count = records.len();
        let passing: Vec<Value> = records
            .into_iter()
            .filter(|r| self.passes_filters(r))
            .collect();
        for batch in passing.chunks(self.mapping.batch_size) {
            self.process_batch(id, batch.to_vec()).await;
        }
        if let Some(shard) = self.shards.get_mut(id) {
            shard.iterator = page.next_shard_iterator;
            if last.is_some() {
                shard.last_sequence = last;
            }
        }
        Ok(count)
    }

    fn passes_filters(&self, record: &Value) -> bool {
        self.mapping.filters.is_empty()
            || self
                .mapping
                .filters
                .iter()
                .any(|pattern| filter_matches(pattern, record))
    }

    /// Invokes the function with a batch until it succeeds or the retries run out, as Lambda does.
    async fn process_batch(&self, shard: &str, batch: Vec<Value>) {
        let mut work: VecDeque<(Vec<Value>, u32)> = VecDeque::from([(batch, 0)]);
        while let Some((batch, retries)) = work.pop_front() {
            let (batch, expired) = self.split_expired(batch);
            if !expired.is_empty() {
                self.send_to_on_failure(shard, &expired, "RecordAgeExceeded")
                    .await;
            }
            if batch.is_empty() {
                continue;
            }
            let outcome = invoke_within(
                &*self.invoker,
                &self.mapping.function,
                self.mapping.timeout,
                json!({ "Records": batch }),
            )
            .await;
            let retry_from = match outcome {
                Ok(response) => match first_failed_index(&response, &batch) {
                    None => continue,
                    Some(index) => Some(index),
                },
                Err(InvokeError::Function { message, .. }) => {
                    tracing::warn!(function = %self.mapping.function, %message, "stream batch invocation failed");
                    if self.mapping.bisect_on_error && batch.len() > 1 {
                        let second = batch[batch.len() / 2..].to_vec();
                        let first = batch[..batch.len() / 2].to_vec();
                        work.push_front((second, retries));
                        work.push_front((first, retries));
                        continue;
                    }
                    Some(0)
                }
                Err(error @ InvokeError::Unreachable { .. }) => {
                    // Not an invocation: Lambda would not count it. Wait and try again.
                    tracing::warn!(%error, "function unreachable; retrying the batch");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    work.push_front((batch, retries));
                    continue;
                }
            };
            let Some(index) = retry_from else { continue };
            let remaining = batch[index..].to_vec();
            if self
                .mapping
                .max_retry_attempts
                .is_some_and(|max| retries >= max)
            {
                self.send_to_on_failure(shard, &remaining, "RetryAttemptsExhausted")
                    .await;
                continue;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            work.push_front((remaining, retries + 1));
        }
    }

    fn split_expired(&self, batch: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
        let Some(max_age) = self.mapping.max_record_age else {
            return (batch, Vec::new());
        };
        let now = chrono::Utc::now().timestamp_millis();
        #[allow(clippy::cast_possible_truncation)]
        let limit = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        batch.into_iter().partition(|record| {
            let created = record["dynamodb"]["ApproximateCreationDateTime"]
                .as_f64()
                .unwrap_or_default();
            #[allow(clippy::cast_possible_truncation)]
            let created_ms = (created * 1000.0) as i64;
            now - created_ms <= limit
        })
    }

    /// Describes a skipped batch to the on-failure destination, in Lambda's format.
    async fn send_to_on_failure(&self, shard: &str, records: &[Value], condition: &str) {
        let sequence = |r: Option<&Value>| {
            r.map(|r| r["dynamodb"]["SequenceNumber"].clone())
                .unwrap_or(Value::Null)
        };
        tracing::error!(function = %self.mapping.function, shard, records = records.len(), condition, "stream records skipped");
        let Some(url) = &self.mapping.on_failure_queue_url else {
            return;
        };
        let body = json!({
            "requestContext": {"condition": condition, "functionArn": format!("arn:aws:lambda:local:000000000000:function:{}", self.mapping.function)},
            "version": "1.0",
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": sequence(records.first()),
                "endSequenceNumber": sequence(records.last()),
                "batchSize": records.len(),
                "streamArn": self.mapping.stream_arn,
            }
        });
        if let Err(error) = self
            .clients
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(body.to_string())
            .send()
            .await
        {
            tracing::error!(error = %error_chain(&error), "cannot write to the on-failure destination");
        }
    }
}

fn last_sequence(records: &[Record]) -> Option<String> {
    records
        .last()
        .and_then(|r| r.dynamodb.as_ref())
        .and_then(|c| c.sequence_number.clone())
}

/// Index of the record to retry from: the lowest failed sequence number; 0 (the whole batch)
/// when a failure names nothing or something not in the batch, as Lambda treats it.
fn first_failed_index(response: &Value, batch: &[Value]) -> Option<usize> {
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
fn lambda_record(record: &Record, stream_arn: &str, region: &str) -> Value {
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

fn value_matches(option: &Value, actual: Option<&Value>) -> bool {
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

struct QueuePoller<I> {
    clients: Clients,
    mapping: Arc<QueueMapping>,
    invoker: Arc<I>,
}

impl<I: Invoker> QueuePoller<I> {
    async fn run(self) {
        loop {
            if let Err(error) = self.poll_once().await {
                tracing::warn!(queue = %self.mapping.queue_url, %error, "queue poll failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn poll_once(&self) -> Result<(), String> {
        let received = self
            .clients
            .sqs
            .receive_message()
            .queue_url(&self.mapping.queue_url)
            .max_number_of_messages(self.mapping.batch_size)
            .wait_time_seconds(self.mapping.wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| format!("ReceiveMessage: {}", error_chain(&e)))?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
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
    fn lambda_message(&self, message: &aws_sdk_sqs::types::Message) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
