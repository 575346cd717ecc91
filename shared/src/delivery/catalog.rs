//! The event types fan-out sees, noted in the account's catalog (`GET /api/v1/event-types`).
//!
//! Only published types are noted: the catalog describes the built-in ones itself.
//! A container notes each (account, type) when it first sees it, then at most once per
//! [`NOTE_EVERY`]: a type's first sighting is exact, its last one up to that late, and a steady
//! stream of one type costs one write a minute per container, not one per event.

use crate::domain::event_type::is_built_in;
use crate::domain::throttle::Throttle;
use crate::model::{AccountId, Event, SeenEventType, Timestamp};
use crate::ports::EventTypeStore;
use std::collections::BTreeMap;
use std::time::Duration;

/// How often a container notes a type it keeps seeing.
pub const NOTE_EVERY: Duration = Duration::from_secs(60);

type Key = (AccountId, String);

/// When this container last noted each type.
#[derive(Debug)]
pub struct TypeSightings {
    noted: Throttle<Key>,
}

impl Default for TypeSightings {
    fn default() -> Self {
        Self::new(NOTE_EVERY)
    }
}

impl TypeSightings {
    /// Notes a type again after `every` (zero: at every sighting).
    #[must_use]
    pub fn new(every: Duration) -> Self {
        Self {
            noted: Throttle::new(every),
        }
    }

    /// Notes the types of `events` that are due, one write per type; returns how many were
    /// written. A failed write is logged and tried again at the next sighting: the catalog is
    /// not worth holding back deliveries for.
    pub async fn note<S: EventTypeStore>(&self, store: &S, events: &[Event]) -> usize {
        let mut due: BTreeMap<Key, (Timestamp, Timestamp)> = BTreeMap::new();
        for event in events {
            if is_built_in(&event.event_type) {
                continue;
            }
            let key = (event.account_id, event.event_type.clone());
            if !self.noted.due(&key) {
                continue;
            }
            let span = due
                .entry(key)
                .or_insert((event.created_at, event.created_at));
            span.0 = span.0.min(event.created_at);
            span.1 = span.1.max(event.created_at);
        }
        let mut written = 0;
        for ((account_id, event_type), (first_seen, last_seen)) in due {
            let seen = SeenEventType {
                account_id,
                event_type,
                first_seen,
                last_seen,
            };
            match store.note_event_type(&seen).await {
                Ok(()) => {
                    self.noted.done((seen.account_id, seen.event_type));
                    written += 1;
                }
                Err(error) => {
                    tracing::warn!(%error, event_type = %seen.event_type, "noting an event type failed");
                }
            }
        }
        written
    }
}
