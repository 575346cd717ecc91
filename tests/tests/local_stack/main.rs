//! The local stack is real: the AWS SDK talks to DynamoDB Local and the SQS emulator, and the
//! bridge hands stream records and queue messages to the functions' handlers exactly as Lambda's
//! event source mappings would, honouring `batchItemFailures`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod queues;
mod streams;
mod support;
