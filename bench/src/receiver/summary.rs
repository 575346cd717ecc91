//! What has arrived, counted.

use serde::{Deserialize, Serialize};

/// One request that arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Arrival {
    /// `webhook-id` (the event id).
    pub id: String,
    /// The `id` in the body (the event's), which `webhook-id` repeats.
    #[serde(default)]
    pub event_id: Option<String>,
    /// The port it arrived on (one port per receiver URL).
    pub port: u16,
    /// Unix milliseconds when its body had been read and verified.
    pub verified_at_ms: i64,
    /// The event's `created_at`, unix milliseconds.
    pub created_at_ms: Option<i64>,
    pub verified: bool,
}

/// What has arrived, counted: a delivery is an (event, receiver URL) pair; a duplicate is a
/// verified arrival of a pair already delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub arrivals: usize,
    pub verified: usize,
    /// Distinct (event, port) pairs that arrived verified.
    pub delivered: usize,
    pub duplicates: usize,
    /// Verified arrivals whose `webhook-id` is not the event id of their body (a duplicate that
    /// a receiver could not recognise by `webhook-id`).
    pub webhook_id_mismatches: usize,
    /// Unix milliseconds: the earliest event `created_at`, the last verification.
    pub first_created_ms: Option<i64>,
    pub last_verified_ms: Option<i64>,
}

impl Summary {
    #[must_use]
    pub fn of(arrivals: &[Arrival]) -> Self {
        let mut pairs = std::collections::HashSet::new();
        let mut summary = Self {
            arrivals: arrivals.len(),
            ..Self::default()
        };
        for arrival in arrivals.iter().filter(|a| a.verified) {
            summary.verified += 1;
            let event = arrival.event_id.as_deref().unwrap_or(&arrival.id);
            if event != arrival.id {
                summary.webhook_id_mismatches += 1;
            }
            if !pairs.insert((event, arrival.port)) {
                summary.duplicates += 1;
            }
            if let Some(created) = arrival.created_at_ms {
                summary.first_created_ms =
                    Some(summary.first_created_ms.map_or(created, |f| f.min(created)));
            }
            summary.last_verified_ms = summary.last_verified_ms.max(Some(arrival.verified_at_ms));
        }
        summary.delivered = pairs.len();
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(id: &str, event: &str, port: u16, at: i64, verified: bool) -> Arrival {
        Arrival {
            id: id.into(),
            event_id: Some(event.into()),
            port,
            verified_at_ms: at,
            created_at_ms: Some(at - 10),
            verified,
        }
    }

    #[test]
    fn pairs_duplicates_and_mismatched_ids_are_counted() {
        let summary = Summary::of(&[
            arrival("evt_1", "evt_1", 1, 100, true),
            arrival("evt_1", "evt_1", 2, 90, true),
            arrival("evt_1", "evt_1", 1, 120, true),
            arrival("evt_x", "evt_2", 1, 130, true),
            arrival("evt_3", "evt_3", 1, 140, false),
        ]);
        assert_eq!(
            summary,
            Summary {
                arrivals: 5,
                verified: 4,
                delivered: 3,
                duplicates: 1,
                webhook_id_mismatches: 1,
                first_created_ms: Some(80),
                last_verified_ms: Some(130),
            }
        );
    }
}
