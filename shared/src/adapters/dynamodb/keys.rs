//! Every `pk` / `sk` format of the two tables, once. Stored items carry these strings, so each
//! format is fixed: the tests below hold them to the layout `mod.rs` describes.

use std::fmt::Display;

/// The partition of everything an account owns (data table and events table).
#[must_use]
pub fn account(account: impl Display) -> String {
    format!("ACC#{account}")
}

/// The sort key of the account item itself.
pub const ACCOUNT_SK: &str = "ACCOUNT";

/// The partition of an API key's item (by the key's hash), which names its account.
#[must_use]
pub fn api_key(key_hash: &str) -> String {
    format!("KEY#{key_hash}")
}

/// The sort key of an API key's item.
pub const API_KEY_SK: &str = "KEY";

pub const API_KEY_RECORD_PREFIX: &str = "APIKEY#";

/// An API key's record in its account (name, prefix, hash, last use), by key id.
#[must_use]
pub fn api_key_record(id: impl Display) -> String {
    format!("{API_KEY_RECORD_PREFIX}{id}")
}

/// The partition listing the accounts that get sample events (one item each, by account).
pub const SAMPLES: &str = "SAMPLES";

/// The partition of a portal link or session (by its token's hash).
#[must_use]
pub fn portal(token_hash: &str) -> String {
    format!("PORTAL#{token_hash}")
}

/// The sort key of a portal link (opened once).
pub const PORTAL_LINK_SK: &str = "LINK";

/// The sort key of a portal session.
pub const PORTAL_SESSION_SK: &str = "SESSION";

pub const USER_PREFIX: &str = "USER#";

#[must_use]
pub fn user(id: impl Display) -> String {
    format!("{USER_PREFIX}{id}")
}

/// The item that keeps a username unique within its account (case-insensitively).
#[must_use]
pub fn username(name: &str) -> String {
    format!("USERNAME#{}", name.to_lowercase())
}

#[must_use]
pub fn photo(id: impl Display) -> String {
    format!("PHOTO#{id}")
}

pub const SUBSCRIPTION_PREFIX: &str = "SUB#";

#[must_use]
pub fn subscription(id: impl Display) -> String {
    format!("{SUBSCRIPTION_PREFIX}{id}")
}

/// The failing mark of a subscription (present while its deliveries fail).
#[must_use]
pub fn health(subscription_id: impl Display) -> String {
    format!("HEALTH#{subscription_id}")
}

/// An `Idempotency-Key` of `POST /api/v1/events`.
#[must_use]
pub fn idempotency(key: &str) -> String {
    format!("IDEM#{key}")
}

pub const EVENT_TYPE_PREFIX: &str = "ETYPE#";

/// An event type an account's events had (data table).
#[must_use]
pub fn event_type(event_type: &str) -> String {
    format!("{EVENT_TYPE_PREFIX}{event_type}")
}

/// A replay (events table): the request, then its parts, which fan-out reads from the stream.
#[must_use]
pub fn replay(replay_id: &str) -> String {
    format!("RPL#{replay_id}")
}

/// One part of a replay's events.
#[must_use]
pub fn replay_part(replay_id: &str, part: u32) -> String {
    format!("RPL#{replay_id}#{part:04}")
}

pub const EVENT_PREFIX: &str = "EVT#";

/// An event's sort key (events table).
#[must_use]
pub fn event(id: impl Display) -> String {
    format!("{EVENT_PREFIX}{id}")
}

/// The prefix of every outcome item (the delivery records of one event, one item per write).
pub const OUTCOMES_PREFIX: &str = "OUT#";

/// The prefix of every outcome item of one event.
#[must_use]
pub fn outcomes_of_event(event_id: impl Display) -> String {
    format!("{OUTCOMES_PREFIX}{event_id}#")
}

/// One outcome item: the records of one event written at once; `round` is unique per write and
/// grows with time (a ULID), so an event's items sort oldest first.
#[must_use]
pub fn outcomes(event_id: impl Display, round: impl Display) -> String {
    format!("{}{round}", outcomes_of_event(event_id))
}

/// The event of an outcome item's sort key.
#[must_use]
pub fn event_of_outcomes(sk: &str) -> Option<&str> {
    sk.strip_prefix(OUTCOMES_PREFIX)?.split('#').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_the_stored_ones() {
        assert_eq!(account("acc_1"), "ACC#acc_1");
        assert_eq!(api_key("ab12"), "KEY#ab12");
        assert_eq!(api_key_record("key_1"), "APIKEY#key_1");
        assert_eq!(portal("ab12"), "PORTAL#ab12");
        assert!(api_key_record("key_1").starts_with(API_KEY_RECORD_PREFIX));
        assert_eq!(user("usr_1"), "USER#usr_1");
        assert!(user("usr_1").starts_with(USER_PREFIX));
        assert_eq!(username("Adam12"), "USERNAME#adam12");
        assert_eq!(photo("p1"), "PHOTO#p1");
        assert_eq!(subscription("sub_1"), "SUB#sub_1");
        assert!(subscription("sub_1").starts_with(SUBSCRIPTION_PREFIX));
        assert_eq!(health("sub_1"), "HEALTH#sub_1");
        assert_eq!(idempotency("k-1"), "IDEM#k-1");
        assert_eq!(event("evt_1"), "EVT#evt_1");
        assert_eq!(event_type("order.received"), "ETYPE#order.received");
        assert_eq!(replay("rpl_1"), "RPL#rpl_1");
        assert_eq!(replay_part("rpl_1", 7), "RPL#rpl_1#0007");
        assert!(event_type("a.b").starts_with(EVENT_TYPE_PREFIX));
        assert!(event("evt_1").starts_with(EVENT_PREFIX));
        assert_eq!(outcomes("evt_1", "01K0"), "OUT#evt_1#01K0");
        assert!(outcomes("evt_1", "01K0").starts_with(&outcomes_of_event("evt_1")));
        assert!(outcomes_of_event("evt_1").starts_with(OUTCOMES_PREFIX));
        assert_eq!(event_of_outcomes("OUT#evt_1#01K0"), Some("evt_1"));
        assert_eq!(event_of_outcomes("SUB#x"), None);
    }
}
