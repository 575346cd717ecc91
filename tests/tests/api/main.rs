//! Handler tests: both HTTP functions with the in-memory store, every route, status and rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod api_keys;
mod catalog;
#[path = "../common/mod.rs"]
mod common;
mod events;
mod hostile;
mod portal;
mod replays;
mod sample_events;
mod subscriptions;
mod support;
mod users;
mod verification;
