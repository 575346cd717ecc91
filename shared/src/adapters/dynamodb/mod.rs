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
//! Files: `store` (the adapter), `keys` (every key format above, once), `codec` (records ↔
//! items), `calls` (the
//! DynamoDB calls and error mapping), and one file per port: `accounts`, `users`, `photos`,
//! `subscriptions`, `events`, `deliveries`.

mod accounts;
mod calls;
mod codec;
mod deliveries;
mod events;
pub mod keys;
mod photos;
mod store;
mod subscriptions;
mod users;

pub use codec::TTL_ATTRIBUTE;
pub use codec::{EVENT_RETENTION_SECONDS, event_from_item};
pub use deliveries::ATTEMPT_RETENTION_SECONDS;
pub use store::DynamoStore;
