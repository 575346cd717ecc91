//! A webhook receiver on loopback that records every request and answers from a script.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Status codes to answer per path, in order; 200 once a script runs out (or a path has none).
    scripts: HashMap<String, VecDeque<u16>>,
    /// Paths that always answer this status.
    always: HashMap<String, u16>,
    /// Waits before answering, per path, in order.
    delays: HashMap<String, VecDeque<std::time::Duration>>,
    /// Paths that answer a request carrying `data.challenge` with that challenge (REST Hooks
    /// intent verification); others answer `ok`.
    echoing: std::collections::HashSet<String>,
    /// Paths that answer this body (instead of `ok`).
    bodies: HashMap<String, String>,
}

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            let state = Arc::clone(&state);
                            async move {
                                let path = request.uri().path().to_owned();
                                let headers = request
                                    .headers()
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.as_str().to_owned(),
                                            v.to_str().unwrap_or_default().to_owned(),
                                        )
                                    })
                                    .collect();
                                let body = request
                                    .into_body()
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes().to_vec())
                                    .unwrap_or_default();
                                let (status, delay, answer) = {
                                    let mut state = state.lock().unwrap();
                                    let answer = state
                                        .echoing
                                        .contains(&path)
                                        .then(|| {
                                            serde_json::from_slice::<serde_json::Value>(&body)
                                                .ok()?["data"]["challenge"]
                                                .as_str()
                                                .map(str::to_owned)
                                        })
                                        .flatten()
                                        .or_else(|| state.bodies.get(&path).cloned());
                                    state.received.push(Received {
                                        path: path.clone(),
                                        headers,
                                        body,
                                    });
                                    let scripted =
                                        state.scripts.get_mut(&path).and_then(VecDeque::pop_front);
                                    let delay =
                                        state.delays.get_mut(&path).and_then(VecDeque::pop_front);
                                    (
                                        scripted
                                            .or_else(|| state.always.get(&path).copied())
                                            .unwrap_or(200),
                                        delay,
                                        answer,
                                    )
                                };
                                if let Some(delay) = delay {
                                    tokio::time::sleep(delay).await;
                                }
                                let answer = answer.map_or(Bytes::from_static(b"ok"), Bytes::from);
                                let mut response = hyper::Response::new(Full::new(answer));
                                *response.status_mut() =
                                    hyper::StatusCode::from_u16(status).unwrap();
                                Ok::<_, std::convert::Infallible>(response)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { base, state }
    }

    /// Answers `body` on `path` (whatever the status).
    pub fn answer_body(&self, path: &str, body: &str) {
        self.state
            .lock()
            .unwrap()
            .bodies
            .insert(path.to_owned(), body.to_owned());
    }

    /// Answers verification requests to `path` with their challenge.
    pub fn echo_challenges(&self, path: &str) {
        self.state.lock().unwrap().echoing.insert(path.to_owned());
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answers `statuses` in order on `path`, then 200.
    pub fn script(&self, path: &str, statuses: &[u16]) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .insert(path.to_owned(), statuses.iter().copied().collect());
    }

    /// Always answers `status` on `path`.
    pub fn always(&self, path: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .always
            .insert(path.to_owned(), status);
    }

    /// Waits `delays` in order before answering on `path`.
    pub fn slow(&self, path: &str, delays: &[std::time::Duration]) {
        self.state
            .lock()
            .unwrap()
            .delays
            .insert(path.to_owned(), delays.iter().copied().collect());
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    pub fn all(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }
}
