//! The use-cases behind the HTTP API, one file per resource, generic over the storage ports so
//! handlers are tested with the in-memory adapter and run on DynamoDB.

mod accounts;
pub mod admin_key;
mod api_keys;
pub mod auth;
mod base;
pub mod catalog;
pub mod error;
mod events;
mod photos;
pub mod portal;
pub mod portal_views;
mod replays;
pub mod sample_events;
mod subscriptions;
mod users;
mod verification;
pub mod wire;

pub use admin_key::AdminKey;
pub use auth::Caller;
pub use base::{Api, DEFAULT_PAGE, KEY_USE_EVERY, MAX_PAGE, PageRequest};
pub use events::{IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_SECONDS};
pub use replays::MAX_REPLAY_EVENTS;
pub use subscriptions::SECRET_OVERLAP_SECONDS;
pub use wire::{NewAccount, NewEvent, NewSubscription, ResendRequest, SubscriptionChanges};
pub use wire::{NewUser, UserChanges};
