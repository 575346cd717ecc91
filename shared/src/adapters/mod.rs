//! Implementations of the ports.

pub mod dynamodb;
pub mod http_sender;
#[cfg(feature = "test-util")]
pub mod memory;
pub mod resolver;
pub mod secrets_manager;
pub mod sqs;
