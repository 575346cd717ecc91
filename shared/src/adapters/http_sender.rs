//! Sends webhooks with reqwest (rustls). Every host name is resolved by [`VettingResolver`],
//! which hands the connection only addresses the target policy allows, so the address that was
//! checked is the one connected to (no DNS rebinding between check and connect). Redirects are
//! not followed.

use crate::domain::target::TargetPolicy;
use crate::model::delivery::RESPONSE_EXCERPT_BYTES;
use crate::ports::delivery::{WebhookRequest, WebhookResponse, WebhookSender};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A name that resolved only to addresses the target policy refuses.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to no allowed address")]
pub struct RefusedTarget {
    pub host: String,
}

/// Resolves names through the OS and drops every address the policy refuses; a name left with
/// none fails to resolve with [`RefusedTarget`].
pub struct VettingResolver {
    policy: TargetPolicy,
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> =
                found.filter(|a| policy.address_allowed(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(RefusedTarget { host }) as Box<_>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[derive(Clone)]
pub struct HttpSender {
    client: reqwest::Client,
    policy: TargetPolicy,
}

impl HttpSender {
    /// # Errors
    /// The client cannot be built (TLS set-up).
    pub fn new(
        policy: TargetPolicy,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        // Mozilla's roots, compiled in: building the client then takes well under a
        // millisecond, where loading the platform's store read every file of its certificate
        // directory at each cold start (about 4 ms here).
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()?;
        let client = reqwest::Client::builder()
            .tls_certs_only(roots)
            .dns_resolver(Arc::new(VettingResolver {
                policy: policy.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        Ok(Self { client, policy })
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

fn error_class(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connect() {
        // Resolution refusals surface as connect errors; say which.
        if caused_by::<RefusedTarget>(error) {
            "refused_target".into()
        } else {
            "connect".into()
        }
    } else if error.is_request() {
        "request".into()
    } else {
        "transport".into()
    }
}

/// Whether an `E` is among the causes of `error`.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if current.is::<E>() {
            return true;
        }
        cause = current.source();
    }
    false
}

impl WebhookSender for HttpSender {
    async fn post(&self, request: &WebhookRequest) -> WebhookResponse {
        // Names go through the vetting resolver; address literals never reach a resolver, so
        // they are checked here.
        let literal = reqwest::Url::parse(&request.url)
            .ok()
            .and_then(|url| match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                _ => None,
            });
        if literal.is_some_and(|ip| !self.policy.address_allowed(ip)) {
            return WebhookResponse {
                status: None,
                error: Some("refused_target".into()),
                retry_after: None,
                body: None,
            };
        }
        let mut builder = self.client.post(&request.url).body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value);
        }
        match builder.send().await {
            Err(error) => WebhookResponse {
                status: None,
                error: Some(error_class(&error)),
                retry_after: None,
                body: None,
            },
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = retry_after(response.headers());
                let redirect = response.status().is_redirection();
                let body = match response.bytes().await {
                    Ok(bytes) => {
                        let cut = &bytes[..bytes.len().min(RESPONSE_EXCERPT_BYTES)];
                        Some(String::from_utf8_lossy(cut).into_owned())
                    }
                    Err(_) => None,
                };
                WebhookResponse {
                    status: Some(status),
                    error: redirect.then(|| "redirect".into()),
                    retry_after,
                    body,
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "http_sender_tests.rs"]
mod tests;
