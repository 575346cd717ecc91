//! A day of delivery attempts summed up: per hour (the portal's chart) and per subscription (its
//! success rate). An attempt succeeded when it delivered; every other outcome is a failure.

use crate::model::delivery::{Attempt, DeliveryState};
use crate::model::{SubscriptionId, Timestamp};
use std::collections::BTreeMap;

/// The hours a summary covers.
pub const HOURS: usize = 24;
const HOUR_MS: i64 = 3_600_000;

/// Attempts and failures in one hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hour {
    pub attempts: u32,
    pub failures: u32,
}

/// The last [`HOURS`] hours up to `now`, oldest first: each attempt counted in the hour it was
/// made (hours end at `now`, so the last one is the latest 60 minutes).
#[must_use]
pub fn hourly(attempts: &[Attempt], now: Timestamp) -> [Hour; HOURS] {
    let mut hours = [Hour::default(); HOURS];
    let now_ms = now.unix_millis();
    for attempt in attempts {
        let age = now_ms - attempt.attempted_at.unix_millis();
        if age < 0 {
            continue;
        }
        let Some(index) = usize::try_from(age / HOUR_MS)
            .ok()
            .filter(|hours_ago| *hours_ago < HOURS)
            .map(|hours_ago| HOURS - 1 - hours_ago)
        else {
            continue;
        };
        hours[index].attempts += 1;
        if attempt.outcome != DeliveryState::Delivered {
            hours[index].failures += 1;
        }
    }
    hours
}

/// Each subscription's share of attempts that delivered, in percent, rounded down; absent for
/// a subscription without attempts.
#[must_use]
pub fn success_rates(attempts: &[Attempt]) -> BTreeMap<SubscriptionId, u32> {
    let mut counts: BTreeMap<SubscriptionId, (u64, u64)> = BTreeMap::new();
    for attempt in attempts {
        let entry = counts.entry(attempt.subscription_id).or_default();
        entry.0 += 1;
        if attempt.outcome == DeliveryState::Delivered {
            entry.1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|(id, (all, delivered))| {
            let percent = u32::try_from(delivered * 100 / all).unwrap_or(100);
            (id, percent)
        })
        .collect()
}

#[cfg(test)]
#[path = "activity_tests.rs"]
mod tests;
