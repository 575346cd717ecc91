//! End to end on the local stack: API → DynamoDB (outbox) → stream → fanout → SQS → deliver →
//! real receivers on loopback that verify Standard Webhooks signatures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod load;
mod portal;
mod retries;
mod samples;
mod signed;
mod support;
mod verification;
mod views;
