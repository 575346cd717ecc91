//! Webhook receivers on loopback, in a process of their own (`bench receiver`) so the CPU they
//! use is never counted as ours. Every request's Standard Webhooks signature is verified: 204 when
//! it verifies, 401 when not. Connections are kept alive (HTTP/1.1). `GET /__records` on any port
//! answers what has arrived so far, `GET /__summary` its counts; `PUT /__mode/<mode>` makes that
//! port fail as endpoints do ([`Mode`]); what a failing port answers is not recorded.

mod mode;
mod summary;

pub use mode::Mode;
use mode::Modes;
pub use summary::{Arrival, Summary};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

type Arrivals = Arc<Mutex<Vec<Arrival>>>;

/// What every port's connections share.
#[derive(Clone)]
struct Shared {
    arrivals: Arrivals,
    modes: Modes,
    secret: Arc<String>,
}

/// `bench receiver --ports N --secret S`: listens on N free loopback ports, prints
/// `ports P1 P2 …` on one line, and serves until killed.
///
/// # Errors
/// A port cannot be bound.
pub async fn serve(ports: usize, secret: String) -> Result<(), String> {
    let shared = Shared {
        arrivals: Arc::default(),
        modes: Modes::default(),
        secret: Arc::new(secret),
    };
    let mut bound = Vec::new();
    for _ in 0..ports {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot bind a loopback port: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        bound.push(port);
        tokio::spawn(accept(listener, port, shared.clone()));
    }
    let list: Vec<String> = bound.iter().map(ToString::to_string).collect();
    #[allow(clippy::print_stdout)]
    {
        println!("ports {}", list.join(" "));
    }
    std::future::pending::<()>().await;
    Ok(())
}

async fn accept(listener: tokio::net::TcpListener, port: u16, shared: Shared) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        if shared.modes.of(port) == Mode::Reset {
            // Closing with SO_LINGER 0 sends a reset, not a FIN.
            let _ = stream.set_zero_linger();
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let shared = shared.clone();
                    async move { answer(request, port, &shared).await }
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

/// The connection is dropped without an answer (`Mode::Reset`).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset on purpose")
    }
}

impl std::error::Error for Dropped {}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    port: u16,
    shared: &Shared,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let arrivals = &shared.arrivals;
    let respond = |status: u16, body: Vec<u8>| {
        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
        response
    };
    match (request.method().as_str(), request.uri().path()) {
        ("GET", "/__records") => {
            let body = serde_json::to_vec(&*lock(arrivals)).unwrap_or_default();
            return Ok(respond(200, body));
        }
        ("GET", "/__summary") => {
            let body = serde_json::to_vec(&Summary::of(&lock(arrivals))).unwrap_or_default();
            return Ok(respond(200, body));
        }
        ("POST", "/__reset") => {
            lock(arrivals).clear();
            return Ok(respond(204, Vec::new()));
        }
        ("PUT", path) if path.starts_with("/__mode/") => {
            let Some(mode) = Mode::parse(&path["/__mode/".len()..]) else {
                return Ok(respond(
                    400,
                    b"modes: verify, timeout, reset, a status".to_vec(),
                ));
            };
            shared.modes.set(port, mode);
            return Ok(respond(204, Vec::new()));
        }
        _ => {}
    }
    match shared.modes.of(port) {
        Mode::Verify => {}
        Mode::Status(code) => return Ok(respond(code, Vec::new())),
        Mode::Timeout => {
            tokio::time::sleep(mode::HANG).await;
            return Ok(respond(204, Vec::new()));
        }
        Mode::Reset => return Err(Dropped),
    }
    let headers = request.headers().clone();
    let body = body_bytes(request.into_body()).await;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    let verified =
        shared::domain::signature::verify(&shared.secret, header, &body, now.timestamp()).is_ok();
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
    Ok(respond(if verified { 204 } else { 401 }, Vec::new()))
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
        self.get("__records").await
    }

    /// The counts of what has arrived.
    ///
    /// # Errors
    /// The receiver does not answer.
    pub async fn summary(&self) -> Result<Summary, String> {
        self.get("__summary").await
    }

    /// A control path's JSON answer (every port shares the records).
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, String> {
        let port = self.ports.first().ok_or("no receiver ports")?;
        self.client
            .get(format!("http://127.0.0.1:{port}/{path}"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())
    }

    /// Makes the receiver at `port` answer as `mode` says from now on.
    ///
    /// # Errors
    /// The receiver does not answer.
    pub async fn set_mode(&self, port: u16, mode: Mode) -> Result<(), String> {
        let response = self
            .client
            .put(format!("http://127.0.0.1:{port}/__mode/{}", mode.name()))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("setting {port} to {mode:?}: {}", response.status()))
        }
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
