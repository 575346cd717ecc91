//! What can go wrong setting the mappings up.

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("{function}.{event}: {message}")]
    Mapping {
        function: String,
        event: String,
        message: String,
    },
    #[error("stream {stream}: {message}")]
    Stream { stream: String, message: String },
}
