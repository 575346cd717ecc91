//! The attempt log read across subscriptions: what the portal's event page and its activity
//! chart show.

use super::error::StoreResult;
use crate::model::delivery::Attempt;
use crate::model::{AccountId, EventId, Timestamp};
use std::future::Future;

pub trait AttemptLog: Send + Sync {
    /// Every attempt to deliver the event, to any subscription, newest first.
    fn attempts_of_event(
        &self,
        account: &AccountId,
        event_id: &EventId,
    ) -> impl Future<Output = StoreResult<Vec<Attempt>>> + Send;
    /// The attempts made since `since` for events created since then, newest event first, at
    /// most about `max` (whole events: DynamoDB reads their outcome items in one Query).
    fn attempts_since(
        &self,
        account: &AccountId,
        since: Timestamp,
        max: usize,
    ) -> impl Future<Output = StoreResult<Vec<Attempt>>> + Send;
}
