//! The event-type catalog.

use crate::model::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// An event type subscriptions can ask for: one of the platform's own (with what it means, the
/// JSON Schema of its `data` and an example), or one the account published.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = EventType)]
pub struct EventTypeOut {
    #[serde(rename = "type")]
    pub event_type: String,
    /// `true` for the platform's own types.
    pub builtin: bool,
    /// What an event of this type means (built-in types).
    pub description: Option<&'static str>,
    /// The JSON Schema (2020-12) of its events' `data` (built-in types).
    #[schema(value_type = Option<Object>)]
    pub schema: Option<serde_json::Value>,
    /// An event's `data`, valid against `schema` (built-in types).
    #[schema(value_type = Option<Object>)]
    pub example: Option<serde_json::Value>,
    /// The first event of this type the account published (custom types).
    pub first_seen: Option<Timestamp>,
    /// The latest, to within a minute (custom types).
    pub last_seen: Option<Timestamp>,
}
