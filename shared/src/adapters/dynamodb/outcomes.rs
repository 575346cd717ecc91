//! The delivery records of one event, written together as one item (`OUT#<evt>#<round>`): its
//! attribute `o` is a JSON array with one compact entry per delivery. A delivery that succeeded
//! keeps its status code and duration (about 80 bytes, so ten fit one write unit); one that did
//! not also keeps its error and the response excerpt. Items are only ever added (each round has a
//! key of its own), so concurrent batches cannot overwrite each other; a delivery's status is its
//! latest entry.

use crate::model::delivery::{Attempt, DeliveryState, DeliveryStatus, delivery_id};
use crate::model::{AccountId, EventId, SubscriptionId, Timestamp};
use crate::ports::delivery::Recorded;
use crate::ports::{StoreError, StoreResult};
use serde::{Deserialize, Serialize};

/// The attribute that holds the entries.
pub(super) const ENTRIES: &str = "o";

/// One delivery's record inside an outcome item. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    #[serde(rename = "s")]
    subscription_id: SubscriptionId,
    #[serde(rename = "st", with = "state_code")]
    status: DeliveryState,
    /// Attempts made (the status's count; for an attempt, its number); 1 when left out.
    #[serde(rename = "n", default = "one", skip_serializing_if = "is_one")]
    attempts: u32,
    /// When the status was set (for an attempt, when it was made).
    #[serde(rename = "t")]
    at: i64,
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<i64>,
    /// Present when an attempt was made (a skip has none): how long it took.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The response excerpt (`deliver` keeps one for attempts that did not deliver).
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    response_body: Option<String>,
}

impl Entry {
    fn of(recorded: &Recorded) -> Self {
        let status = &recorded.status;
        let attempt = recorded.attempt.as_ref();
        Self {
            subscription_id: status.subscription_id,
            status: status.status,
            attempts: status.attempts,
            at: attempt
                .map_or(status.updated_at, |a| a.attempted_at)
                .unix_millis(),
            next_attempt_at: status.next_attempt_at.map(Timestamp::unix_millis),
            duration_ms: attempt.map(|a| a.duration_ms),
            status_code: attempt.and_then(|a| a.status_code),
            error: attempt.and_then(|a| a.error.clone()),
            response_body: attempt.and_then(|a| a.response_body.clone()),
        }
    }

    fn status(&self, event_id: EventId) -> DeliveryStatus {
        DeliveryStatus {
            delivery_id: delivery_id(event_id, self.subscription_id),
            event_id,
            subscription_id: self.subscription_id,
            status: self.status,
            attempts: self.attempts,
            updated_at: time(self.at),
            next_attempt_at: self.next_attempt_at.map(time),
        }
    }

    fn attempt(&self, event_id: EventId) -> Option<Attempt> {
        let duration_ms = self.duration_ms?;
        Some(Attempt {
            delivery_id: delivery_id(event_id, self.subscription_id),
            event_id,
            subscription_id: self.subscription_id,
            attempt: self.attempts,
            attempted_at: time(self.at),
            status_code: self.status_code,
            error: self.error.clone(),
            duration_ms,
            response_body: self.response_body.clone(),
            outcome: self.status,
            next_attempt_at: self.next_attempt_at.map(time),
        })
    }
}

const fn one() -> u32 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)]
const fn is_one(n: &u32) -> bool {
    *n == 1
}

/// A state as one letter in an entry (`d`elivered, `r`etrying, `f`ailed, `s`kipped, `p`ending).
mod state_code {
    use crate::model::delivery::DeliveryState;
    use serde::{Deserialize, Deserializer, Serializer};

    const CODES: [(DeliveryState, &str); 5] = [
        (DeliveryState::Delivered, "d"),
        (DeliveryState::Retrying, "r"),
        (DeliveryState::Failed, "f"),
        (DeliveryState::Skipped, "s"),
        (DeliveryState::Pending, "p"),
    ];

    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub fn serialize<S: Serializer>(state: &DeliveryState, s: S) -> Result<S::Ok, S::Error> {
        let code = CODES
            .iter()
            .find(|(st, _)| st == state)
            .map_or("p", |c| c.1);
        s.serialize_str(code)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DeliveryState, D::Error> {
        let code = <&str>::deserialize(d)?;
        CODES
            .iter()
            .find(|(_, c)| *c == code)
            .map(|c| c.0)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown state {code}")))
    }
}

fn time(millis: i64) -> Timestamp {
    Timestamp::from_unix_millis(millis).unwrap_or_else(Timestamp::now)
}

/// The records of one event (all of one account), as the text of an item's entries.
pub(super) fn encode(records: &[&Recorded]) -> StoreResult<String> {
    let entries: Vec<Entry> = records.iter().map(|r| Entry::of(r)).collect();
    serde_json::to_string(&entries).map_err(|e| StoreError::Backend(format!("outcomes: {e}")))
}

/// An outcome item's entries, read back.
pub(super) struct Outcomes {
    event_id: EventId,
    entries: Vec<Entry>,
}

impl Outcomes {
    /// The entries of the outcome item of `event_id`.
    pub(super) fn decode(event_id: EventId, text: &str) -> StoreResult<Self> {
        let entries = serde_json::from_str(text)
            .map_err(|e| StoreError::Backend(format!("outcomes of {event_id}: {e}")))?;
        Ok(Self { event_id, entries })
    }

    /// Every status the item records.
    pub(super) fn statuses(&self) -> impl Iterator<Item = DeliveryStatus> + '_ {
        self.entries.iter().map(|e| e.status(self.event_id))
    }

    /// Every attempt the item records, to any subscription.
    pub(super) fn attempts(&self) -> impl Iterator<Item = Attempt> + '_ {
        self.entries.iter().filter_map(|e| e.attempt(self.event_id))
    }

    /// The attempts the item records for `subscription_id`, newest first.
    pub(super) fn attempts_of(&self, subscription_id: SubscriptionId) -> Vec<Attempt> {
        let mut found: Vec<Attempt> = self
            .entries
            .iter()
            .filter(|e| e.subscription_id == subscription_id)
            .filter_map(|e| e.attempt(self.event_id))
            .collect();
        crate::model::delivery::newest_first(&mut found);
        found
    }
}

/// The account and event records are grouped by, in first-seen order.
pub(super) fn by_event(records: &[Recorded]) -> Vec<((AccountId, EventId), Vec<&Recorded>)> {
    let mut groups: Vec<((AccountId, EventId), Vec<&Recorded>)> = Vec::new();
    for record in records {
        let key = (record.account_id, record.status.event_id);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, group)) => group.push(record),
            None => groups.push((key, vec![record])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn recorded(sub: u128, state: DeliveryState, body: Option<&str>) -> Recorded {
        let event_id = EventId::from_parts(1_764_000_000_000, 7);
        let subscription_id = SubscriptionId::from_parts(1_764_000_000_000, sub);
        let at = Timestamp::from_unix_millis(1_764_777_600_123).unwrap();
        Recorded {
            account_id: AccountId::from_parts(1_764_000_000_000, 1),
            attempt: Some(Attempt {
                delivery_id: delivery_id(event_id, subscription_id),
                event_id,
                subscription_id,
                attempt: 1,
                attempted_at: at,
                status_code: Some(200),
                error: None,
                duration_ms: 12,
                response_body: body.map(str::to_owned),
                outcome: state,
                next_attempt_at: None,
            }),
            status: DeliveryStatus {
                delivery_id: delivery_id(event_id, subscription_id),
                event_id,
                subscription_id,
                status: state,
                attempts: 1,
                updated_at: at,
                next_attempt_at: None,
            },
        }
    }

    #[test]
    fn a_success_is_compact_and_ten_fit_one_write_unit() {
        let ten: Vec<Recorded> = (1..=10)
            .map(|n| recorded(n, DeliveryState::Delivered, None))
            .collect();
        let text = encode(&ten.iter().collect::<Vec<_>>()).unwrap();
        assert!(text.starts_with(r#"[{"s":"sub_"#), "{text}");
        // The item adds its keys and expiry (~120 bytes) to these entries: under 1 KB in all.
        assert!(text.len() < 880, "{} bytes", text.len());
    }

    #[test]
    fn entries_read_back_as_the_statuses_and_attempts_written() {
        let failed = recorded(2, DeliveryState::Retrying, Some("<h1>busy</h1>"));
        let delivered = recorded(1, DeliveryState::Delivered, None);
        let text = encode(&[&delivered, &failed]).unwrap();
        let outcomes = Outcomes::decode(failed.status.event_id, &text).unwrap();
        let statuses: Vec<DeliveryStatus> = outcomes.statuses().collect();
        assert_eq!(
            statuses,
            vec![delivered.status.clone(), failed.status.clone()]
        );
        assert_eq!(
            outcomes.attempts_of(failed.status.subscription_id),
            vec![failed.attempt.unwrap()],
            "a failed attempt keeps its excerpt"
        );
        assert_eq!(
            outcomes.attempts_of(delivered.status.subscription_id),
            vec![delivered.attempt.unwrap()]
        );
    }

    #[test]
    fn a_skip_has_a_status_and_no_attempt() {
        let mut skipped = recorded(3, DeliveryState::Skipped, None);
        skipped.attempt = None;
        let text = encode(&[&skipped]).unwrap();
        let outcomes = Outcomes::decode(skipped.status.event_id, &text).unwrap();
        assert_eq!(outcomes.statuses().count(), 1);
        assert!(
            outcomes
                .attempts_of(skipped.status.subscription_id)
                .is_empty()
        );
    }
}
