//! Publishing through faults, and counting what arrived: helpers every chaos scenario uses.

use crate::e2e::PUBLISHERS;
use crate::receiver::Arrival;
use crate::rig::Rig;
use futures::StreamExt as _;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a publish is retried through an outage.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(120);
/// No new delivery for this long: the pipeline has settled.
pub const SETTLED: Duration = Duration::from_secs(30);

/// Publishes events `from..from + count`, one started every `pace`, each retried until the API
/// accepts it (its `Idempotency-Key` makes a retry answer the same event); their ids, and how many
/// attempts failed.
///
/// # Errors
/// An event was refused for longer than [`PUBLISH_PATIENCE`].
pub async fn publish(
    rig: &Rig,
    from: usize,
    count: usize,
    pace: Duration,
) -> Result<(HashSet<String>, usize), String> {
    let failures = AtomicUsize::new(0);
    let started = Instant::now();
    let ids = futures::stream::iter(from..from + count)
        .map(|n| {
            let failures = &failures;
            async move {
                let offset = pace.saturating_mul(u32::try_from(n - from).unwrap_or(u32::MAX));
                tokio::time::sleep_until((started + offset).into()).await;
                let key = format!("chaos-{n}");
                let begun = Instant::now();
                loop {
                    match rig.publisher.publish_keyed(n, Some(&key)).await {
                        Ok(id) => return Ok(id),
                        Err(error) if begun.elapsed() > PUBLISH_PATIENCE => {
                            return Err(format!("event {n} refused for 120 s: {error}"));
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(500)).await;
                        }
                    }
                }
            }
        })
        .buffer_unordered(PUBLISHERS)
        .collect::<Vec<Result<String, String>>>()
        .await
        .into_iter()
        .collect::<Result<HashSet<_>, _>>()?;
    Ok((ids, failures.load(Ordering::Relaxed)))
}

/// What arrived of some events at some ports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Distinct (event, port) pairs delivered with a valid signature.
    pub delivered: usize,
    /// Verified arrivals of a pair already delivered.
    pub duplicates: usize,
    /// Verified arrivals whose `webhook-id` is not their event's id.
    pub other_webhook_id: usize,
}

/// Counts `arrivals` of `events` at `ports`.
#[must_use]
pub fn count(arrivals: &[Arrival], events: &HashSet<String>, ports: &[u16]) -> Count {
    let mut seen: HashMap<(&str, u16), usize> = HashMap::new();
    let mut counted = Count::default();
    for arrival in arrivals
        .iter()
        .filter(|a| a.verified && ports.contains(&a.port))
    {
        let event = arrival.event_id.as_deref().unwrap_or(&arrival.id);
        if !events.contains(event) {
            continue;
        }
        if event != arrival.id {
            counted.other_webhook_id += 1;
        }
        *seen.entry((event, arrival.port)).or_default() += 1;
    }
    counted.delivered = seen.len();
    counted.duplicates = seen.values().map(|n| n - 1).sum();
    counted
}

/// The events of `events` that a port of `ports` has not received with a valid signature.
#[must_use]
pub fn missing(arrivals: &[Arrival], events: &HashSet<String>, ports: &[u16]) -> Vec<String> {
    let seen: HashSet<(&str, u16)> = arrivals
        .iter()
        .filter(|a| a.verified)
        .map(|a| (a.event_id.as_deref().unwrap_or(&a.id), a.port))
        .collect();
    let mut missing: Vec<String> = events
        .iter()
        .filter(|e| ports.iter().any(|p| !seen.contains(&(e.as_str(), *p))))
        .cloned()
        .collect();
    missing.sort();
    missing
}

/// Waits until every event of `events` arrived at every port of `ports`, or nothing new arrived
/// for [`SETTLED`]; what arrived by then.
///
/// # Errors
/// The receivers do not answer.
pub async fn settle(rig: &Rig, events: &HashSet<String>, ports: &[u16]) -> Result<Count, String> {
    let expected = events.len() * ports.len();
    let (mut best, mut since) = (Count::default(), Instant::now());
    loop {
        let counted = count(&rig.receiver.arrivals().await?, events, ports);
        if counted.delivered >= expected {
            // A moment more, so duplicates in flight are counted too.
            tokio::time::sleep(Duration::from_secs(2)).await;
            return Ok(count(&rig.receiver.arrivals().await?, events, ports));
        }
        if counted.delivered > best.delivered {
            (best, since) = (counted, Instant::now());
        } else if since.elapsed() > SETTLED {
            return Ok(counted);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(id: &str, event: &str, port: u16, verified: bool) -> Arrival {
        Arrival {
            id: id.into(),
            event_id: Some(event.into()),
            port,
            verified_at_ms: 0,
            created_at_ms: None,
            verified,
        }
    }

    #[test]
    fn only_verified_arrivals_of_these_events_at_these_ports_count() {
        let events: HashSet<String> = ["e1".to_owned(), "e2".to_owned()].into();
        let arrivals = [
            arrival("e1", "e1", 1, true),
            arrival("e1", "e1", 1, true),
            arrival("e1", "e1", 2, true),
            arrival("ex", "e2", 1, true),
            arrival("e2", "e2", 2, false),
            arrival("e3", "e3", 1, true),
            arrival("e2", "e2", 9, true),
        ];
        assert_eq!(
            count(&arrivals, &events, &[1, 2]),
            Count {
                delivered: 3,
                duplicates: 1,
                other_webhook_id: 1
            }
        );
    }
}
