//! The DynamoDB stream → function mapping: shards read in order, batches filtered, retried,
//! bisected, and finally described to the on-failure queue.

use super::error::BridgeError;
use super::records::*;
use super::settings::StreamMapping;
use crate::invoke::{InvokeError, Invoker, invoke_within};
use crate::provision::Clients;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde_json::{Value, json};
use shared::adapters::dynamodb_streams::lambda_record;
use shared::adapters::error_chain;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

pub(super) struct Shard {
    pub(super) iterator: Option<String>,
    /// The last record read from the shard (handed on, or skipped as existing before start).
    pub(super) last_sequence: Option<String>,
}

pub(super) struct StreamPoller<I> {
    pub(super) clients: Clients,
    pub(super) mapping: StreamMapping,
    pub(super) invoker: Arc<I>,
    pub(super) shards: BTreeMap<String, Shard>,
    pub(super) finished: HashSet<String>,
}

impl<I: Invoker> StreamPoller<I> {
    pub(super) fn new(clients: Clients, mapping: StreamMapping, invoker: Arc<I>) -> Self {
        Self {
            clients,
            mapping,
            invoker,
            shards: BTreeMap::new(),
            finished: HashSet::new(),
        }
    }

    pub(super) fn stream_error(&self, message: String) -> BridgeError {
        BridgeError::Stream {
            stream: self.mapping.stream_arn.clone(),
            message,
        }
    }

    /// Finds shards not seen yet. At start, open shards are read from the configured position
    /// and closed ones are ignored; shards found later (children of a split) from the start.
    pub(super) async fn discover(&mut self, initial: bool) -> Result<(), BridgeError> {
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

    pub(super) async fn iterator(
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

    pub(super) async fn get_records(
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

    pub(super) async fn run(mut self) {
        let mut idle_rounds: u32 = 0;
        loop {
            // Lambda's base rate: each shard polled every `poll_interval`, records or not.
            let next_round = tokio::time::Instant::now() + self.mapping.poll_interval;
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
            tokio::time::sleep_until(next_round).await;
        }
    }

    /// Reads one page of a shard and hands it on in batches; returns how many records it read.
    pub(super) async fn poll_shard(&mut self, id: &str) -> Result<usize, String> {
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

    pub(super) fn passes_filters(&self, record: &Value) -> bool {
        self.mapping.filters.is_empty()
            || self
                .mapping
                .filters
                .iter()
                .any(|pattern| filter_matches(pattern, record))
    }

    /// Invokes the function with a batch until it succeeds or the retries run out, as Lambda does.
    pub(super) async fn process_batch(&self, shard: &str, batch: Vec<Value>) {
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

    pub(super) fn split_expired(&self, batch: Vec<Value>) -> (Vec<Value>, Vec<Value>) {
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
    pub(super) async fn send_to_on_failure(&self, shard: &str, records: &[Value], condition: &str) {
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
