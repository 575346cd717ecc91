//! The ports on DynamoDB. Every change that emits an event is one `TransactWriteItems` with the
//! event item in the events table (the transactional outbox whose stream feeds `fanout`).
//!
//! Data table (`pk`, `sk`):
//! - `ACC#<acc>` / `ACCOUNT`; `KEY#<sha256>` / `KEY` → account id
//! - `ACC#<acc>` / `USER#<usr>`; `ACC#<acc>` / `USERNAME#<lowercase name>` (uniqueness)
//! - `ACC#<acc>` / `PHOTO#<photo id>` (`likes`); `ACC#<acc>` / `SUB#<sub>` (one Query per account
//!   finds every subscription); `ACC#<acc>` / `IDEM#<key>` (`expires_at`, TTL)
//! - Deliveries (TTL 30 days): `ACC#<acc>` / `DLV#<evt>#<sub>` (latest status; one Query per
//!   event), `ATT#<sub>#<time>#<dlv>#<nn>` (the attempt log, newest first per subscription),
//!   `HEALTH#<sub>` (failing since, while deliveries fail). `deliver` reads what a batch needs in
//!   one eventually consistent `BatchGetItem` and writes its statuses and attempts in one
//!   `BatchWriteItem`: about 1 read unit and 2 write units per delivery.
//!
//! Events table: `ACC#<acc>` / `EVT#<evt>` with `entity = "event"` (what the stream filter
//! keeps), index `gsi1` on `ACC#<acc>#TYPE#<type>` / `EVT#<evt>` for listing by type.
//!
//! Files: `keys` (every key format above, once), `codec` (records ↔ items), `calls` (the
//! DynamoDB calls and error mapping), and one file per port: `accounts`, `users`, `photos`,
//! `subscriptions`, `events`, `deliveries`.

mod accounts;
mod calls;
mod codec;
mod deliveries;
mod events;
pub mod keys;
mod photos;
mod subscriptions;
mod users;

pub use codec::event_from_item;
pub use deliveries::ATTEMPT_RETENTION_SECONDS;

use aws_sdk_dynamodb::Client;

/// How long an event is kept (and so can be fetched, listed and resent).
pub const EVENT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;
/// The attribute holding an item's expiry (unix seconds): the tables' TTL attribute.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Every port, on the two tables.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    data_table: String,
    events_table: String,
}

impl DynamoStore {
    #[must_use]
    pub fn new(
        client: Client,
        data_table: impl Into<String>,
        events_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            data_table: data_table.into(),
            events_table: events_table.into(),
        }
    }
}
