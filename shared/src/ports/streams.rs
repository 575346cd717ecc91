//! Reading a stream batch again, for the records an event source mapping gave up on.

use super::StoreResult;
use crate::model::StreamBatch;
use std::future::Future;

pub trait StreamReader: Send + Sync {
    /// The batch's records in order, each in the JSON shape Lambda hands to functions.
    /// `Backend` when they cannot all be read (the stream is unreachable, or keeps them no more:
    /// DynamoDB Streams keeps 24 hours).
    fn read(
        &self,
        batch: &StreamBatch,
    ) -> impl Future<Output = StoreResult<Vec<serde_json::Value>>> + Send;
}
