//! When a conditional write loses a race (another request changed the item first, or the
//! transaction conflicted), how long to wait before reading again and retrying: exponential
//! backoff with full jitter, so racing requests spread out instead of colliding in step.

use std::time::Duration;

/// The first retry waits up to this long.
pub const BASE: Duration = Duration::from_millis(4);
/// No wait is longer.
pub const CAP: Duration = Duration::from_millis(160);

/// The wait before retry number `attempt` (0 for the first retry): a uniformly random part,
/// picked by `random`, of `min(CAP, BASE × 2^attempt)`.
#[must_use]
pub fn wait(attempt: u32, random: u64) -> Duration {
    let ceiling = BASE
        .saturating_mul(1_u32.checked_shl(attempt).unwrap_or(u32::MAX))
        .min(CAP);
    let ceiling_us = u64::try_from(ceiling.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(random % ceiling_us.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_cap_and_stay_within_it() {
        assert_eq!(wait(0, 0), Duration::ZERO);
        assert_eq!(wait(0, 4_000), Duration::from_millis(4));
        assert_eq!(wait(0, 4_001), Duration::ZERO, "wraps within the ceiling");
        assert_eq!(wait(1, 8_000), Duration::from_millis(8));
        assert_eq!(wait(3, 32_000), Duration::from_millis(32));
        assert_eq!(wait(10, 160_000), CAP);
        assert_eq!(wait(40, 160_000), CAP, "no overflow past 2^31");
        for attempt in 0..64 {
            assert!(wait(attempt, u64::MAX) <= CAP);
        }
    }
}
