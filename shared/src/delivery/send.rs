//! The signed request (Standard Webhooks) to a subscription's URL, after the target policy.

use super::plan::DeliverySettings;
use crate::domain::signature;
use crate::model::Timestamp;
use crate::model::{Event, Subscription};
use crate::ports::delivery::{WebhookRequest, WebhookResponse, WebhookSender};
use crate::ports::resolver::Resolver;

/// Builds, checks and sends the signed request.
pub(super) async fn send<W: WebhookSender, R: Resolver>(
    sender: &W,
    resolver: &R,
    settings: &DeliverySettings,
    subscription: &Subscription,
    event: &Event,
) -> WebhookResponse {
    let refused = |error: String| WebhookResponse {
        status: None,
        error: Some(error),
        retry_after: None,
        body: None,
    };
    if let Err(error) = settings
        .targets
        .check(&subscription.url, |host, port| async move {
            resolver.resolve(&host, port).await
        })
        .await
    {
        return refused(format!("refused_target: {error}"));
    }
    // Serialising our own struct of strings and a JSON value cannot fail.
    let body = serde_json::to_vec(&event.representation()).unwrap_or_default();
    let webhook_id = event.id.to_string();
    let current = Timestamp::now();
    let timestamp = current.unix_seconds();
    let secrets: Vec<&str> = subscription
        .secrets
        .iter()
        .filter(|s| s.expires_at.is_none_or(|until| until > current))
        .map(|s| s.secret.as_str())
        .collect();
    let signature = match signature::sign(&secrets, &webhook_id, timestamp, &body) {
        Ok(signature) => signature,
        Err(error) => return refused(format!("signing: {error}")),
    };
    // The subscription's own headers first; the platform's (which they may not name) after.
    let mut headers: Vec<(String, String)> = subscription
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    headers.extend([
        ("content-type".to_owned(), "application/json".to_owned()),
        (
            "user-agent".to_owned(),
            format!("{} (+webhooks)", crate::PRODUCT),
        ),
        ("webhook-id".to_owned(), webhook_id),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ("webhook-signature".to_owned(), signature),
    ]);
    let request = WebhookRequest {
        url: subscription.url.clone(),
        headers,
        body,
    };
    sender.post(&request).await
}
