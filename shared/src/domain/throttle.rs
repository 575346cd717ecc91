//! "At most once per period per key", for the writes a warm container can space out (noting an
//! event type in the catalog, an API key's last use).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys remembered at most; past it the memory starts afresh (more writes, never fewer).
const CAPACITY: usize = 10_000;

/// When each key was last acted on.
#[derive(Debug)]
pub struct Throttle<K> {
    every: Duration,
    last: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq> Throttle<K> {
    /// Acting on a key again after `every` (zero: always).
    #[must_use]
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Instant>> {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `key` is due: never acted on, or longer than the period ago.
    #[must_use]
    pub fn due(&self, key: &K) -> bool {
        self.lock()
            .get(key)
            .is_none_or(|at| at.elapsed() >= self.every)
    }

    /// Notes that `key` was acted on now.
    pub fn done(&self, key: K) {
        let mut last = self.lock();
        if last.len() >= CAPACITY {
            last.clear();
        }
        last.insert(key, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_due_again_after_the_period_only() {
        let hourly = Throttle::new(Duration::from_secs(3600));
        assert!(hourly.due(&"a"));
        hourly.done("a");
        assert!(!hourly.due(&"a"));
        assert!(hourly.due(&"b"), "each key on its own");
        let always = Throttle::new(Duration::ZERO);
        always.done("a");
        assert!(always.due(&"a"));
    }
}
