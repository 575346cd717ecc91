//! Webhook receivers on loopback, in a process of their own (`bench receiver`) so the CPU they
//! use is never counted as ours. Every request's Standard Webhooks signature is verified: 204 when
//! it verifies, 401 when not. Connections are kept alive (HTTP/1.1). `GET /__records` on any port
//! answers what has arrived so far, `GET /__summary` its counts.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// One request that arrived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Arrival {
    /// `webhook-id` (the event id).
    pub id: String,
    /// The `id` in the body (the event's), which `webhook-id` repeats.
    #[serde(default)]
    pub event_id: Option<String>,
    /// The port it arrived on (one port per receiver URL).
    pub port: u16,
    /// Unix milliseconds when its body had been read and verified.
    pub verified_at_ms: i64,
    /// The event's `created_at`, unix milliseconds.
    pub created_at_ms: Option<i64>,
    pub verified: bool,
}

type Arrivals = Arc<Mutex<Vec<Arrival>>>;

/// `bench receiver --ports N --secret S`: listens on N free loopback ports, prints
/// `ports P1 P2 …` on one line, and serves until killed.
///
/// # Errors
/// A port cannot be bound.
pub async fn serve(ports: usize, secret: String) -> Result<(), String> {
    let arrivals: Arrivals = Arc::default();
    let secret = Arc::new(secret);
    let mut bound = Vec::new();
    for _ in 0..ports {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot bind a loopback port: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        bound.push(port);
        let (arrivals, secret) = (Arc::clone(&arrivals), Arc::clone(&secret));
        tokio::spawn(accept(listener, port, arrivals, secret));
    }
    let list: Vec<String> = bound.iter().map(ToString::to_string).collect();
    #[allow(clippy::print_stdout)]
    {
        println!("ports {}", list.join(" "));
    }
    std::future::pending::<()>().await;
    Ok(())
}

async fn accept(
    listener: tokio::net::TcpListener,
    port: u16,
    arrivals: Arrivals,
    secret: Arc<String>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (arrivals, secret) = (Arc::clone(&arrivals), Arc::clone(&secret));
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let (arrivals, secret) = (Arc::clone(&arrivals), Arc::clone(&secret));
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            answer(request, port, &arrivals, &secret).await,
                        )
                    }
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A request body, whole (empty when it cannot be read).
pub async fn body_bytes(body: hyper::body::Incoming) -> Vec<u8> {
    body.collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default()
}

fn lock(arrivals: &Arrivals) -> std::sync::MutexGuard<'_, Vec<Arrival>> {
    arrivals
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    port: u16,
    arrivals: &Arrivals,
    secret: &str,
) -> hyper::Response<Full<Bytes>> {
    let respond = |status: u16, body: Vec<u8>| {
        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
        response
    };
    match (request.method().as_str(), request.uri().path()) {
        ("GET", "/__records") => {
            let body = serde_json::to_vec(&*lock(arrivals)).unwrap_or_default();
            return respond(200, body);
        }
        ("GET", "/__summary") => {
            let body = serde_json::to_vec(&Summary::of(&lock(arrivals))).unwrap_or_default();
            return respond(200, body);
        }
        ("POST", "/__reset") => {
            lock(arrivals).clear();
            return respond(204, Vec::new());
        }
        _ => {}
    }
    let headers = request.headers().clone();
    let body = crate::receiver::body_bytes(request.into_body()).await;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    let verified =
        shared::domain::signature::verify(secret, header, &body, now.timestamp()).is_ok();
    let parsed = serde_json::from_slice::<serde_json::Value>(&body).ok();
    let created_at_ms = parsed.as_ref().and_then(|v| {
        v.get("created_at")
            .and_then(serde_json::Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
    });
    let event_id = parsed
        .as_ref()
        .and_then(|v| v.get("id").and_then(serde_json::Value::as_str))
        .map(str::to_owned);
    lock(arrivals).push(Arrival {
        id: header("webhook-id").unwrap_or_default().to_owned(),
        event_id,
        port,
        verified_at_ms: chrono::Utc::now().timestamp_millis(),
        created_at_ms,
        verified,
    });
    respond(if verified { 204 } else { 401 }, Vec::new())
}

/// The receiver process, seen from the bench.
pub struct ReceiverProcess {
    child: tokio::process::Child,
    pub ports: Vec<u16>,
    client: reqwest::Client,
}

impl ReceiverProcess {
    /// Starts `bench receiver` with `ports` ports, verifying with `secret`.
    ///
    /// # Errors
    /// It cannot be started or does not report its ports within 10 s.
    pub async fn start(ports: usize, secret: &str) -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = tokio::process::Command::new(exe)
            .args([
                "receiver",
                "--ports",
                &ports.to_string(),
                "--secret",
                secret,
            ])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the receiver: {e}"))?;
        let stdout = child.stdout.take().ok_or("receiver has no stdout")?;
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(10),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .map_err(|_| "the receiver did not report its ports within 10 s".to_owned())?
        .map_err(|e| e.to_string())?;
        let ports = line
            .trim()
            .strip_prefix("ports ")
            .ok_or_else(|| format!("unexpected receiver output {line:?}"))?
            .split(' ')
            .map(|p| p.parse::<u16>().map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            child,
            ports,
            client: reqwest::Client::new(),
        })
    }

    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `http://127.0.0.1:PORT/hook` for each port.
    #[must_use]
    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}/hook"))
            .collect()
    }

    /// Everything that has arrived.
    ///
    /// # Errors
    /// The receiver does not answer.
    pub async fn arrivals(&self) -> Result<Vec<Arrival>, String> {
        let port = self.ports.first().ok_or("no receiver ports")?;
        self.client
            .get(format!("http://127.0.0.1:{port}/__records"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    /// The counts of what has arrived.
    ///
    /// # Errors
    /// The receiver does not answer.
    pub async fn summary(&self) -> Result<Summary, String> {
        let port = self.ports.first().ok_or("no receiver ports")?;
        self.client
            .get(format!("http://127.0.0.1:{port}/__summary"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    /// Forgets what has arrived.
    ///
    /// # Errors
    /// The receiver does not answer.
    pub async fn reset(&self) -> Result<(), String> {
        let port = self.ports.first().ok_or("no receiver ports")?;
        self.client
            .post(format!("http://127.0.0.1:{port}/__reset"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// What has arrived, counted: a delivery is an (event, receiver URL) pair; a duplicate is a
/// verified arrival of a pair already delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub arrivals: usize,
    pub verified: usize,
    /// Distinct (event, port) pairs that arrived verified.
    pub delivered: usize,
    pub duplicates: usize,
    /// Verified arrivals whose `webhook-id` is not the event id of their body (a duplicate that
    /// a receiver could not recognise by `webhook-id`).
    pub webhook_id_mismatches: usize,
    /// Unix milliseconds: the earliest event `created_at`, the last verification.
    pub first_created_ms: Option<i64>,
    pub last_verified_ms: Option<i64>,
}

impl Summary {
    #[must_use]
    pub fn of(arrivals: &[Arrival]) -> Self {
        let mut pairs = std::collections::HashSet::new();
        let mut summary = Self {
            arrivals: arrivals.len(),
            ..Self::default()
        };
        for arrival in arrivals.iter().filter(|a| a.verified) {
            summary.verified += 1;
            let event = arrival.event_id.as_deref().unwrap_or(&arrival.id);
            if event != arrival.id {
                summary.webhook_id_mismatches += 1;
            }
            if !pairs.insert((event, arrival.port)) {
                summary.duplicates += 1;
            }
            if let Some(created) = arrival.created_at_ms {
                summary.first_created_ms =
                    Some(summary.first_created_ms.map_or(created, |f| f.min(created)));
            }
            summary.last_verified_ms = summary.last_verified_ms.max(Some(arrival.verified_at_ms));
        }
        summary.delivered = pairs.len();
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrival(id: &str, event: &str, port: u16, at: i64, verified: bool) -> Arrival {
        Arrival {
            id: id.into(),
            event_id: Some(event.into()),
            port,
            verified_at_ms: at,
            created_at_ms: Some(at - 10),
            verified,
        }
    }

    #[test]
    fn pairs_duplicates_and_mismatched_ids_are_counted() {
        let summary = Summary::of(&[
            arrival("evt_1", "evt_1", 1, 100, true),
            arrival("evt_1", "evt_1", 2, 90, true),
            arrival("evt_1", "evt_1", 1, 120, true),
            arrival("evt_x", "evt_2", 1, 130, true),
            arrival("evt_3", "evt_3", 1, 140, false),
        ]);
        assert_eq!(
            summary,
            Summary {
                arrivals: 5,
                verified: 4,
                delivered: 3,
                duplicates: 1,
                webhook_id_mismatches: 1,
                first_created_ms: Some(80),
                last_verified_ms: Some(130),
            }
        );
    }
}
