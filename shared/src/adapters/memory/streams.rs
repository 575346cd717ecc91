//! [`StreamReader`] in memory: the records a test puts in, each in Lambda's JSON shape.

use crate::model::StreamBatch;
use crate::ports::streams::StreamReader;
use crate::ports::{StoreError, StoreResult};
use serde_json::Value;
use std::sync::Mutex;

/// A stream's records by shard, in order; a test removes them to stand for the 24 hours after
/// which DynamoDB Streams keeps them no more.
#[derive(Default)]
pub struct MemoryStreams {
    records: Mutex<Vec<(String, Value)>>,
}

impl MemoryStreams {
    /// Appends `record` (with its `dynamodb.SequenceNumber`) to `shard`.
    pub fn push(&self, shard: &str, record: Value) {
        self.lock().push((shard.to_owned(), record));
    }

    /// Forgets every record.
    pub fn trim(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Value)>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl StreamReader for MemoryStreams {
    async fn read(&self, batch: &StreamBatch) -> StoreResult<Vec<Value>> {
        let sequence = |r: &Value| r["dynamodb"]["SequenceNumber"].as_str().map(str::to_owned);
        let records = self.lock();
        let shard = records.iter().filter(|(s, _)| *s == batch.shard_id);
        let from = shard
            .clone()
            .position(|(_, r)| sequence(r).as_deref() == Some(&batch.start_sequence_number))
            .ok_or_else(|| StoreError::Backend("the batch is no longer in the stream".into()))?;
        Ok(shard
            .skip(from)
            .map(|(_, r)| r.clone())
            .take_while(|r| !batch.ends_before(&sequence(r).unwrap_or_default()))
            .collect())
    }
}
