//! When a failed delivery is tried again. The schedule lists the waits after each failed attempt
//! (default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts in all), each jittered ±20 %.
//! A `Retry-After` on 429/503 is honoured within [scheduled, 2 × scheduled]. SQS visibility
//! timeouts cap at 12 hours.

use std::time::Duration;

pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";
/// SQS's largest visibility timeout.
pub const MAX_DELAY: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    waits: Vec<Duration>,
}

impl RetrySchedule {
    /// Parses `5s,5m,2h`-style lists (units s, m, h; a bare number is seconds).
    ///
    /// # Errors
    /// An entry is not a duration, or one exceeds 12 h.
    pub fn parse(text: &str) -> Result<Self, String> {
        let waits = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|entry| {
                let (number, unit) = entry.split_at(
                    entry
                        .find(|c: char| !c.is_ascii_digit())
                        .unwrap_or(entry.len()),
                );
                let value: u64 = number
                    .parse()
                    .map_err(|_| format!("{entry} is not a duration like 30s, 5m or 2h"))?;
                let seconds = match unit {
                    "" | "s" => value,
                    "m" => value * 60,
                    "h" => value * 3600,
                    _ => return Err(format!("{entry}: unit must be s, m or h")),
                };
                let wait = Duration::from_secs(seconds);
                if wait > MAX_DELAY {
                    return Err(format!(
                        "{entry} is longer than SQS's 12 h visibility limit"
                    ));
                }
                Ok(wait)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { waits })
    }

    /// Attempts in all: the first try plus one per wait.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        u32::try_from(self.waits.len())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    /// The wait after failed attempt `attempt` (1-based), before jitter; `None` after the last.
    #[must_use]
    pub fn scheduled(&self, attempt: u32) -> Option<Duration> {
        self.waits
            .get(usize::try_from(attempt).ok()?.checked_sub(1)?)
            .copied()
    }

    /// The wait after failed attempt `attempt`: scheduled ± `jitter` (a number in [-1, 1] that
    /// scales ±20 %), then stretched to honour `retry_after` within [scheduled, 2 × scheduled],
    /// capped at 12 h. `None` when no attempt is left.
    #[must_use]
    pub fn delay(
        &self,
        attempt: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let scheduled = self.scheduled(attempt)?;
        let jittered = scheduled.mul_f64(1.0 + 0.2 * jitter.clamp(-1.0, 1.0));
        let wait = match retry_after {
            Some(asked) => asked
                .clamp(scheduled, scheduled * 2)
                .max(jittered.min(scheduled * 2)),
            None => jittered,
        };
        Some(wait.min(MAX_DELAY))
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse(DEFAULT_SCHEDULE).unwrap_or(Self { waits: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn default_schedule_has_eight_attempts() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 8);
        let waits: Vec<Duration> = (1..8).map(|a| schedule.scheduled(a).unwrap()).collect();
        assert_eq!(
            waits,
            [S(5), S(300), S(1800), S(7200), S(18000), S(36000), S(36000)]
        );
        assert_eq!(schedule.scheduled(8), None);
        assert_eq!(schedule.delay(8, 0.0, None), None);
        assert_eq!(schedule.scheduled(0), None);
    }

    #[test]
    fn parsing() {
        assert_eq!(RetrySchedule::parse("1s, 2, 3m,1h").unwrap().attempts(), 5);
        assert!(RetrySchedule::parse("5x").is_err());
        assert!(RetrySchedule::parse("13h").is_err());
        assert!(RetrySchedule::parse("soon").is_err());
        assert_eq!(RetrySchedule::parse("").unwrap().attempts(), 1);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.delay(2, -1.0, None), Some(S(240)));
        assert_eq!(schedule.delay(2, 1.0, None), Some(S(360)));
        assert_eq!(schedule.delay(2, 0.0, None), Some(S(300)));
        assert_eq!(
            schedule.delay(2, 7.0, None),
            Some(S(360)),
            "jitter is clamped"
        );
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let schedule = RetrySchedule::default();
        // 5 min scheduled: asking 7 min gets 7 min, 1 h is cut to 10 min, 1 s is raised to at least 5 min.
        assert_eq!(schedule.delay(2, 0.0, Some(S(420))), Some(S(420)));
        assert_eq!(schedule.delay(2, 0.0, Some(S(3600))), Some(S(600)));
        assert!(schedule.delay(2, 0.0, Some(S(1))).unwrap() >= S(300));
        assert!(schedule.delay(2, 1.0, Some(S(1))).unwrap() <= S(600));
    }

    #[test]
    fn delays_cap_at_sqs_visibility_limit() {
        let schedule = RetrySchedule::parse("12h").unwrap();
        assert_eq!(schedule.delay(1, 1.0, None), Some(MAX_DELAY));
    }
}
