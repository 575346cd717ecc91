//! The account's sample events setting.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whether the account gets `order.received` sample events, and how often.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleEventsSettings {
    pub enabled: bool,
    /// Seconds between two samples, 5 to 3600; 5 when not given.
    #[schema(minimum = 5, maximum = 3600)]
    pub period_seconds: Option<u32>,
}

/// The account's sample events setting as it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SampleEventsOut {
    pub enabled: bool,
    /// `null` when not enabled.
    #[schema(required = true)]
    pub period_seconds: Option<u32>,
}
