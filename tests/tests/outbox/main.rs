//! The transactional outbox on DynamoDB Local: every change writes exactly one event item in the
//! same transaction, a failed change writes none, and accounts never see each other's data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod changes;
#[path = "../common/mod.rs"]
mod common;
mod fuzz;
mod isolation;
mod support;
