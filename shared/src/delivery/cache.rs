//! Subscriptions as a warm `deliver` container last read them, so a batch reads only those it
//! has not seen lately.
//!
//! What staleness is allowed:
//! - never older than the version fan-out matched the event against (the message carries each
//!   subscription's `updated_at`): a change made before an event — a new URL, a rotated secret,
//!   a disable — is always honoured by that event's deliveries;
//! - a change made after fan-out (disable, delete, rotation) reaches deliveries already queued
//!   within [`MAX_AGE`], as a copy is used for that long at most (a rotated secret's predecessor
//!   stays valid for 24 h, so those deliveries still verify);
//! - the failing mark set by another container is seen within [`MAX_AGE`]; this container's own
//!   marks are seen at once.

use crate::model::delivery::Target;
use crate::model::{AccountId, SubscriptionId};
use crate::ports::delivery::SubscriptionState;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a copy is used at most.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// Copies kept at most; past it the cache starts afresh.
const CAPACITY: usize = 10_000;

type Key = (AccountId, SubscriptionId);

/// The subscriptions a container read, each with when.
#[derive(Debug)]
pub struct SubscriptionCache {
    max_age: Duration,
    entries: Mutex<HashMap<Key, (SubscriptionState, Instant)>>,
}

impl Default for SubscriptionCache {
    fn default() -> Self {
        Self::new(MAX_AGE)
    }
}

impl SubscriptionCache {
    /// A cache whose copies are used for `max_age` at most (zero: never).
    #[must_use]
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (SubscriptionState, Instant)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The copy of `target`'s subscription, if one was read within the max age and is at least
    /// as new as the version the target names.
    #[must_use]
    pub fn get(&self, account: AccountId, target: &Target) -> Option<SubscriptionState> {
        let entries = self.lock();
        let (state, read_at) = entries.get(&(account, target.subscription_id))?;
        let subscription = state.subscription.as_ref()?;
        let fresh = read_at.elapsed() < self.max_age;
        let new_enough = target
            .version
            .is_none_or(|version| subscription.updated_at >= version);
        (fresh && new_enough).then(|| state.clone())
    }

    /// Keeps what was just read (a missing subscription is not kept: it is confirmed by a
    /// strong read each time).
    pub fn put(&self, account: AccountId, id: SubscriptionId, state: &SubscriptionState) {
        if state.subscription.is_none() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert((account, id), (state.clone(), Instant::now()));
    }

    /// Notes this container's own change of the failing mark.
    pub fn set_failing(&self, account: AccountId, id: SubscriptionId, failing: bool) {
        if let Some((state, _)) = self.lock().get_mut(&(account, id)) {
            state.failing = failing;
        }
    }

    /// Forgets a subscription (after deactivating it).
    pub fn forget(&self, account: AccountId, id: SubscriptionId) {
        self.lock().remove(&(account, id));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::{Subscription, Timestamp};

    const ACC: AccountId = AccountId::from_parts(1_764_000_000_000, 1);
    const SUB: SubscriptionId = SubscriptionId::from_parts(1_764_000_000_000, 1);

    fn state(updated_ms: i64) -> SubscriptionState {
        let at = Timestamp::from_unix_millis(updated_ms).unwrap();
        SubscriptionState {
            subscription: Some(Subscription {
                id: SUB,
                account_id: ACC,
                url: "https://hooks.example.com/".into(),
                event_types: vec!["*".into()],
                description: None,
                active: true,
                secrets: vec![],
                disabled_reason: None,
                verification: None,
                headers: std::collections::BTreeMap::new(),
                created_at: at,
                updated_at: at,
            }),
            failing: false,
        }
    }

    fn target(version_ms: Option<i64>) -> Target {
        Target {
            subscription_id: SUB,
            version: version_ms.and_then(Timestamp::from_unix_millis),
        }
    }

    #[test]
    fn a_copy_is_used_only_when_as_new_as_the_message_says() {
        let cache = SubscriptionCache::default();
        assert!(cache.get(ACC, &target(None)).is_none(), "nothing read yet");
        cache.put(ACC, SUB, &state(2_000));
        assert!(cache.get(ACC, &target(Some(2_000))).is_some());
        assert!(cache.get(ACC, &target(Some(1_000))).is_some());
        assert!(cache.get(ACC, &target(None)).is_some());
        assert!(
            cache.get(ACC, &target(Some(3_000))).is_none(),
            "changed since this copy was read"
        );
        let other = AccountId::from_parts(1_764_000_000_000, 2);
        assert!(cache.get(other, &target(None)).is_none(), "per account");
    }

    #[test]
    fn a_copy_is_used_for_the_max_age_at_most() {
        let cache = SubscriptionCache::new(Duration::from_millis(30));
        cache.put(ACC, SUB, &state(1_000));
        assert!(cache.get(ACC, &target(None)).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.get(ACC, &target(None)).is_none());
        let never = SubscriptionCache::new(Duration::ZERO);
        never.put(ACC, SUB, &state(1_000));
        assert!(never.get(ACC, &target(None)).is_none());
    }

    #[test]
    fn marks_and_deactivation_update_the_copy_and_misses_are_not_kept() {
        let cache = SubscriptionCache::default();
        cache.put(ACC, SUB, &state(1_000));
        cache.set_failing(ACC, SUB, true);
        assert!(cache.get(ACC, &target(None)).unwrap().failing);
        cache.forget(ACC, SUB);
        assert!(cache.get(ACC, &target(None)).is_none());
        cache.put(ACC, SUB, &SubscriptionState::default());
        assert!(cache.get(ACC, &target(None)).is_none());
    }
}
