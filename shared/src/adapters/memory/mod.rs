//! The ports in memory, for handler tests. Each operation takes one lock, so every change and
//! its event happen together, as in the DynamoDB adapter's transactions.

use crate::model::{
    Account, AccountId, Event, EventId, Page, Subscription, SubscriptionId, Timestamp, User,
    UserId, decode_cursor, encode_cursor,
};
use crate::ports::{StoreError, StoreResult};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

mod accounts;
mod attempts;
mod deliveries;
mod event_types;
mod portal;
mod queue;
mod samples;
mod secret;
mod sender;
mod stores;
mod streams;

pub use queue::MemoryQueue;
pub use secret::FixedSecret;
pub use sender::RecordingSender;
pub use streams::MemoryStreams;

/// Each write's records of one event (with the outcome item's sort key), by event.
type Outcomes =
    BTreeMap<(AccountId, EventId), Vec<(String, Vec<crate::ports::delivery::Recorded>)>>;

#[derive(Default)]
struct State {
    accounts: HashMap<AccountId, Account>,
    /// Each key hash's account and key.
    keys: HashMap<String, (AccountId, crate::model::ApiKeyId)>,
    api_keys: BTreeMap<(AccountId, crate::model::ApiKeyId), crate::model::ApiKey>,
    users: BTreeMap<(AccountId, UserId), User>,
    usernames: HashMap<(AccountId, String), UserId>,
    photos: HashMap<(AccountId, String), u64>,
    subscriptions: BTreeMap<(AccountId, SubscriptionId), Subscription>,
    events: BTreeMap<(AccountId, EventId), Event>,
    /// The event, until when, and the request's fingerprint.
    idempotency: HashMap<(AccountId, String), (EventId, i64, String)>,
    /// Each write's records of one event, under the outcome item's sort key, by event.
    outcomes: Outcomes,
    /// Replays by account and id, and every part written, in order.
    replays: HashMap<(AccountId, String), crate::model::Replay>,
    replay_parts: Vec<crate::model::ReplayPart>,
    /// The accounts that get sample events, with their period.
    samples: BTreeMap<AccountId, u32>,
    /// The event types seen, by account and name.
    event_types: BTreeMap<(AccountId, String), crate::model::SeenEventType>,
    /// Portal links and sessions, by their token's hash.
    portal_links: HashMap<String, crate::model::PortalLink>,
    portal_sessions: HashMap<String, crate::model::PortalSession>,
    /// Failing since, and the last failure.
    failing_since: HashMap<(AccountId, SubscriptionId), (Timestamp, Timestamp)>,
}

/// All ports in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every replay part written, oldest first (for assertions: on DynamoDB, fan-out reads them
    /// from the stream).
    #[must_use]
    pub fn replay_parts(&self) -> Vec<crate::model::ReplayPart> {
        self.lock().replay_parts.clone()
    }

    /// Everything stored, in one canonical text (for "nothing changed" assertions), but when
    /// keys were last used (noted as they are used).
    #[must_use]
    pub fn snapshot(&self) -> String {
        fn sorted<K: std::fmt::Debug, V: std::fmt::Debug>(map: &HashMap<K, V>) -> Vec<String> {
            let mut entries: Vec<String> = map.iter().map(|e| format!("{e:?}")).collect();
            entries.sort();
            entries
        }
        let state = self.lock();
        let api_keys: Vec<_> = state
            .api_keys
            .values()
            .map(|k| crate::model::ApiKey {
                last_used_at: None,
                ..k.clone()
            })
            .collect();
        format!(
            "{:#?}",
            (
                (sorted(&state.accounts), sorted(&state.keys), api_keys),
                (
                    &state.users,
                    sorted(&state.usernames),
                    sorted(&state.photos)
                ),
                (&state.subscriptions, sorted(&state.failing_since)),
                (&state.events, sorted(&state.idempotency), &state.outcomes),
                (sorted(&state.replays), &state.replay_parts),
                (&state.samples, &state.event_types),
            )
        )
    }

    /// Every event written, oldest first (for assertions).
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        let mut events: Vec<Event> = self.lock().events.values().cloned().collect();
        events.sort_by_key(|a| a.id);
        events
    }
}

/// A page of `items`, each keyed by the sort key the DynamoDB adapter stores it under
/// ([`crate::adapters::dynamodb::keys`]), so cursors are the same on both; a cursor whose key
/// does not start with `prefix` is refused.
fn page<T: Clone>(
    items: impl Iterator<Item = (String, T)>,
    prefix: &str,
    limit: usize,
    cursor: Option<&str>,
    descending: bool,
) -> StoreResult<Page<T>> {
    let after = cursor
        .map(|c| {
            decode_cursor(c)
                .filter(|key| key.starts_with(prefix))
                .ok_or(StoreError::InvalidCursor)
        })
        .transpose()?;
    let mut all: Vec<(String, T)> = items.collect();
    all.sort_by(|a, b| {
        if descending {
            b.0.cmp(&a.0)
        } else {
            a.0.cmp(&b.0)
        }
    });
    let remaining: Vec<(String, T)> = all
        .into_iter()
        .filter(|(key, _)| {
            after
                .as_ref()
                .is_none_or(|after| if descending { key < after } else { key > after })
        })
        .collect();
    let more = remaining.len() > limit;
    let taken: Vec<(String, T)> = remaining.into_iter().take(limit).collect();
    let next_cursor = if more {
        taken.last().map(|(key, _)| encode_cursor(key))
    } else {
        None
    };
    Ok(Page {
        items: taken.into_iter().map(|(_, item)| item).collect(),
        next_cursor,
    })
}
