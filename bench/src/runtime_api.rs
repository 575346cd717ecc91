//! A Lambda Runtime API emulator (the endpoints a custom runtime such as `lambda_runtime` talks to),
//! so a function's release binary runs here exactly as in Lambda: it starts, polls
//! `GET /2018-06-01/runtime/invocation/next`, and posts each answer to `…/{id}/response` (or
//! `…/{id}/error`, or `…/init/error` when it cannot start).

use http_body_util::Full;
use hyper::body::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";
/// What an invocation may take before the bench gives up on it.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The answer to one invocation.
#[derive(Debug)]
pub struct Outcome {
    pub body: Vec<u8>,
    /// Posted to `/error` rather than `/response`.
    pub error: bool,
    /// When the function received the event (its `next` request was answered).
    pub served_at: Instant,
    /// When its answer arrived.
    pub answered_at: Instant,
}

struct Invocation {
    id: String,
    payload: Vec<u8>,
    done: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct State {
    first_next: Option<Instant>,
    init_error: Option<String>,
    pending: HashMap<String, (oneshot::Sender<Outcome>, Instant)>,
}

pub struct RuntimeApi {
    address: String,
    invocations: mpsc::Sender<Invocation>,
    state: Arc<Mutex<State>>,
    counter: std::sync::atomic::AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RuntimeApi {
    /// Listens on a free loopback port.
    ///
    /// # Errors
    /// No port can be bound.
    pub async fn start(function: &str) -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let address = listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .to_string();
        let (invocations, receiver) = mpsc::channel::<Invocation>(16);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let state: Arc<Mutex<State>> = Arc::default();
        let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{function}");
        let shared = Arc::clone(&state);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (state, receiver, arn) =
                    (Arc::clone(&shared), Arc::clone(&receiver), arn.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            let (state, receiver, arn) =
                                (Arc::clone(&state), Arc::clone(&receiver), arn.clone());
                            async move {
                                Ok::<_, std::convert::Infallible>(
                                    route(request, &state, &receiver, &arn).await,
                                )
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            address,
            invocations,
            state,
            counter: std::sync::atomic::AtomicU64::new(0),
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// When the function first asked for an event (it had finished its init).
    #[must_use]
    pub fn first_next(&self) -> Option<Instant> {
        lock(&self.state).first_next
    }

    /// What the function reported through `/init/error`, if it did.
    #[must_use]
    pub fn init_error(&self) -> Option<String> {
        lock(&self.state).init_error.clone()
    }

    /// Invokes the function with `payload` and waits for its answer.
    ///
    /// # Errors
    /// No answer within [`DEADLINE`].
    pub async fn invoke(&self, payload: Vec<u8>) -> Result<Outcome, String> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (done, answer) = oneshot::channel();
        let invocation = Invocation {
            id: format!("bench-{n:08}-0000-0000-0000-000000000000"),
            payload,
            done,
        };
        self.invocations
            .send(invocation)
            .await
            .map_err(|_| "the runtime API has stopped".to_owned())?;
        tokio::time::timeout(DEADLINE, answer)
            .await
            .map_err(|_| format!("no answer within {DEADLINE:?}"))?
            .map_err(|_| "the invocation was dropped".to_owned())
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn reply(status: u16, body: Vec<u8>) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response
}

async fn route(
    request: hyper::Request<hyper::body::Incoming>,
    state: &Mutex<State>,
    receiver: &tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    arn: &str,
) -> hyper::Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return reply(404, b"{\"errorType\":\"NotFound\"}".to_vec());
    };
    if request.method() == hyper::Method::GET && rest == "/invocation/next" {
        {
            let mut state = lock(state);
            if state.first_next.is_none() {
                state.first_next = Some(Instant::now());
            }
        }
        let Some(invocation) = receiver.lock().await.recv().await else {
            return reply(500, Vec::new());
        };
        let served_at = Instant::now();
        lock(state)
            .pending
            .insert(invocation.id.clone(), (invocation.done, served_at));
        let deadline = chrono::Utc::now().timestamp_millis()
            + i64::try_from(DEADLINE.as_millis()).unwrap_or(30_000);
        let mut response = reply(200, invocation.payload);
        let headers = response.headers_mut();
        for (name, value) in [
            ("lambda-runtime-aws-request-id", invocation.id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            ("lambda-runtime-invoked-function-arn", arn.to_owned()),
            (
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
                    .to_owned(),
            ),
            ("content-type", "application/json".to_owned()),
        ] {
            if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        return response;
    }
    let body = crate::receiver::body_bytes(request.into_body()).await;
    if rest == "/init/error" {
        lock(state).init_error = Some(String::from_utf8_lossy(&body).into_owned());
        return reply(202, Vec::new());
    }
    let answered_at = Instant::now();
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    if let ["invocation", id, kind @ ("response" | "error")] = parts.as_slice() {
        let pending = lock(state).pending.remove(*id);
        if let Some((done, served_at)) = pending {
            let _ = done.send(Outcome {
                body,
                error: *kind == "error",
                served_at,
                answered_at,
            });
            return reply(202, Vec::new());
        }
        return reply(400, b"{\"errorType\":\"InvalidRequestID\"}".to_vec());
    }
    reply(404, b"{\"errorType\":\"NotFound\"}".to_vec())
}
