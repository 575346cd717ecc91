//! Implementations of the ports.

pub mod dynamodb;
pub mod dynamodb_streams;
pub mod http_sender;
#[cfg(feature = "test-util")]
pub mod memory;
pub mod resolver;
pub mod secrets_manager;
pub mod sqs;

/// An error and each of its causes, joined by `: `, for a log line.
#[must_use]
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
