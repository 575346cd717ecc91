//! When a failed delivery is tried again. The schedule lists the waits after each failed attempt
//! (default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 8 attempts in all), each jittered ±20 %.
//! A `Retry-After` on 429/503 is honoured within [scheduled, 2 × scheduled]. No wait exceeds 12 h.
//!
//! How a wait is kept on SQS ([`backoff`]): a received message stays hidden for at most 12 hours
//! counted from its receive, not from the `ChangeMessageVisibility` call. A wait that fits what
//! is left of that (less a margin) hides the message; a longer one continues the delivery as a new
//! message (sent with a delay of up to 15 min, then hidden until it is due).

use std::time::Duration;

pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";
/// SQS's largest visibility timeout, and so the longest wait.
pub const MAX_DELAY: Duration = Duration::from_secs(12 * 3600);
/// SQS's largest `DelaySeconds` on a message.
pub const MAX_MESSAGE_DELAY: Duration = Duration::from_secs(15 * 60);
/// How long before an invocation its messages may have been received: Lambda's longest batching
/// window for SQS (300 s), plus clock differences.
pub const RECEIVE_TO_INVOKE: Duration = Duration::from_secs(6 * 60);
/// Visibility kept back from SQS's 12 h, for the time between reading the clock and SQS taking the call.
pub const VISIBILITY_MARGIN: Duration = Duration::from_secs(2 * 60);

/// How a failed delivery waits for its next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// Hide the received message this long (`ChangeMessageVisibility`).
    Hide(Duration),
    /// Send the delivery as a new message due after the wait, delayed by `delay` (at most
    /// 15 min; a longer wait hides the new message once it is received), and delete this one.
    Continue { delay: Duration },
}

/// How to wait `wait` on a message received at most `since_receive` ago. A `continued` message
/// (one that carries its attempt count) always continues: its receive count is not its attempt.
#[must_use]
pub fn backoff(wait: Duration, since_receive: Duration, continued: bool) -> Backoff {
    let left = MAX_DELAY.saturating_sub(since_receive.saturating_add(VISIBILITY_MARGIN));
    if wait <= left && !continued {
        Backoff::Hide(wait)
    } else {
        Backoff::Continue {
            delay: wait.min(MAX_MESSAGE_DELAY),
        }
    }
}

/// How to wait until a continued message is due, `remaining` from now: hide it if that fits
/// what is left of its 12 h, else continue it again.
#[must_use]
pub fn wait_until_due(remaining: Duration, since_receive: Duration) -> Backoff {
    backoff(remaining, since_receive, false)
}

/// The longest a message may have been received before `now`: from the later of SQS's first
/// receive and the invocation's start less [`RECEIVE_TO_INVOKE`] (both come before this receive).
#[must_use]
pub fn since_receive(
    now: std::time::SystemTime,
    invoked_at: std::time::SystemTime,
    first_receive: Option<std::time::SystemTime>,
) -> Duration {
    let by_invocation = invoked_at
        .checked_sub(RECEIVE_TO_INVOKE)
        .unwrap_or(std::time::UNIX_EPOCH);
    let received = first_receive.map_or(by_invocation, |first| first.max(by_invocation));
    now.duration_since(received).unwrap_or_default()
}

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

    /// How long after a subscription's last failure its failing window restarts with the next
    /// one: twice the longest wait (with `Retry-After` a wait may be doubled), at least an hour.
    /// A failing endpoint with anything to deliver fails more often than that, so only a
    /// success that went unseen, or silence, is bridged by a longer gap; then "every delivery
    /// has failed since" is not known and the window starts afresh.
    #[must_use]
    pub fn failing_gap(&self) -> Duration {
        let longest = self.waits.iter().max().copied().unwrap_or_default();
        (longest * 2).max(Duration::from_secs(3600))
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
    fn a_failing_window_bridges_twice_the_longest_wait_and_at_least_an_hour() {
        assert_eq!(RetrySchedule::default().failing_gap(), S(20 * 3600));
        assert_eq!(
            RetrySchedule::parse("1s,1s").unwrap().failing_gap(),
            S(3600)
        );
    }

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
    fn a_wait_that_fits_the_receive_s_12_hours_hides_the_message() {
        assert_eq!(backoff(S(300), S(1), false), Backoff::Hide(S(300)));
        // 10 h +20 % jitter = 12 h: past 12 h - 2 min, so it continues on a new message.
        assert_eq!(
            backoff(S(43_200), S(1), false),
            Backoff::Continue { delay: S(900) }
        );
        assert_eq!(backoff(S(43_079), S(0), false), Backoff::Hide(S(43_079)));
        assert_eq!(
            backoff(S(43_081), S(0), false),
            Backoff::Continue { delay: S(900) }
        );
        // Received 11 h ago: 2 h no longer fit; a short wait continues with that delay.
        assert_eq!(
            backoff(S(7_200), S(39_600), false),
            Backoff::Continue { delay: S(900) }
        );
        assert_eq!(
            backoff(S(60), S(43_200), false),
            Backoff::Continue { delay: S(60) }
        );
        assert_eq!(backoff(S(5), S(1), true), Backoff::Continue { delay: S(5) });
    }

    #[test]
    fn a_continued_message_waits_out_the_rest_of_its_wait() {
        // Sent with 15 min of delay for a 12 h wait: 11 h 45 min are left at its first receive.
        assert_eq!(wait_until_due(S(42_300), S(0)), Backoff::Hide(S(42_300)));
        assert_eq!(
            wait_until_due(S(42_300), S(3_600)),
            Backoff::Continue { delay: S(900) }
        );
    }

    #[test]
    fn the_receive_is_bounded_by_the_first_receive_and_the_invocation() {
        let t = |s: u64| std::time::UNIX_EPOCH + S(1_000_000 + s);
        // First receive (the only one) 10 s before the invocation: it bounds the receive.
        assert_eq!(since_receive(t(100), t(90), Some(t(80))), S(20));
        // A later receive: the first was hours ago, the invocation (less 6 min) bounds it.
        assert_eq!(since_receive(t(100_000), t(99_990), Some(t(10))), S(370));
        assert_eq!(since_receive(t(100), t(100), None), S(360));
        // A clock behind the timestamps gives zero, not a panic.
        assert_eq!(since_receive(t(0), t(0), Some(t(50))), S(0));
    }

    #[test]
    fn delays_cap_at_sqs_visibility_limit() {
        let schedule = RetrySchedule::parse("12h").unwrap();
        assert_eq!(schedule.delay(1, 1.0, None), Some(MAX_DELAY));
    }
}
