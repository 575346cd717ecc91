//! Implementations of the ports.

pub mod dynamodb;
#[cfg(feature = "test-util")]
pub mod memory;
