//! The ports on DynamoDB. Every change that emits an event is one `TransactWriteItems` with the
//! event item in the events table (the transactional outbox whose stream feeds `fanout`).
//!
//! Data table (`pk`, `sk`):
//! - `ACC#<acc>` / `ACCOUNT`; `KEY#<sha256>` / `KEY` → account id
//! - `ACC#<acc>` / `USER#<usr>`; `ACC#<acc>` / `USERNAME#<lowercase name>` (uniqueness)
//! - `ACC#<acc>` / `PHOTO#<photo id>` (`likes`); `ACC#<acc>` / `SUB#<sub>` (one Query per account
//!   finds every subscription); `ACC#<acc>` / `IDEM#<key>` (`expires_at`, TTL)
//! - Deliveries (TTL 30 days): `ACC#<acc>` / `OUT#<evt>#<round>`, the records of one event that
//!   one write made (`outcomes`: compact entries, ten to a write unit when they succeeded), only
//!   ever added; an event's deliveries are one Query, a delivery's status its latest entry, and a
//!   subscription's attempt log a Query of the account's outcome items filtered by its id.
//!   `HEALTH#<sub>` (failing since, while deliveries fail). `deliver` reads the subscriptions its
//!   warm cache lacks (`BatchGetItem`), its events (`BatchGetItem`) and their outcome items (a
//!   Query per event), and writes one outcome item per event (`BatchWriteItem`).
//!
//! Events table: `ACC#<acc>` / `EVT#<evt>` with `entity = "event"` (what the stream filter
//! keeps); no index, so an event is one write unit (up to 1 KB); listing by type filters.
//!
//! Files: `store` (the adapter), `keys` (every key format above, once), `codec` (records ↔
//! items), `outcomes` (delivery records ↔ an outcome item's entries), `calls` (the DynamoDB calls
//! and error mapping), and one file per port: `accounts`, `users`, `photos`, `subscriptions`,
//! `events`, `deliveries`.

mod accounts;
mod attempts;
mod calls;
mod codec;
mod deliveries;
mod event_types;
mod events;
pub mod keys;
mod outcomes;
mod photos;
mod portal;
mod replays;
mod samples;
mod store;
mod subscriptions;
mod users;

pub use codec::TTL_ATTRIBUTE;
pub use codec::{EVENT_RETENTION_SECONDS, event_from_item};
pub use deliveries::ATTEMPT_RETENTION_SECONDS;
pub use replays::{REPLAY_PART_ENTITY, replay_part_from_item};
pub use store::DynamoStore;
