//! `samples`: run once a minute by the schedule the `SampleEvents` parameter turns on; emits the
//! minute's `order.received` sample events of every account that asked for them, each at its
//! period (`shared::api::sample_events`).

use lambda_runtime::{Error, LambdaEvent};
use serde_json::{Value, json};
use shared::model::Timestamp;
use shared::ports::{EventStore, SampleEventStore};

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::wiring::samples::SamplesConfig::VARS;

/// Handles one scheduled invocation: the minute is the event's `time` (EventBridge's), else now.
///
/// # Errors
/// The accounts could not be read (the next minute tries again).
pub async fn handle<S>(store: &S, event: LambdaEvent<Value>) -> Result<Value, Error>
where
    S: SampleEventStore + EventStore,
{
    let at = event.payload["time"]
        .as_str()
        .and_then(Timestamp::parse)
        .unwrap_or_else(Timestamp::now);
    let minute = at.unix_seconds();
    let events = shared::api::sample_events::emit_sample_minute(store, minute, tokio::time::sleep)
        .await
        .map_err(Box::new)?;
    tracing::info!(events, "samples emitted");
    Ok(json!({ "events": events }))
}
