//! How the local bridge and gateway call a function: through `cargo lambda watch`'s Lambda
//! Invoke API (what `make dev` uses), or in-process (what the tests use). Both pass the event
//! as JSON, so the tests exercise the same (de)serialisation Lambda does.

use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The function ran and failed (an `Err` from the handler, a panic, a timeout): what Lambda
    /// reports with `X-Amz-Function-Error`.
    #[error("function {function} failed: {message}")]
    Function { function: String, message: String },
    /// The function could not be reached at all.
    #[error("cannot invoke {function}: {message}")]
    Unreachable { function: String, message: String },
}

/// Calls a function by name with a JSON event and returns its JSON result.
pub trait Invoker: Send + Sync + 'static {
    fn invoke(
        &self,
        function: &str,
        payload: Value,
    ) -> impl Future<Output = Result<Value, InvokeError>> + Send;
}

/// Invokes as Lambda does with respect to time: an invocation still running after `timeout` (the
/// function's `Timeout`) fails, and is dropped.
///
/// # Errors
/// As [`Invoker::invoke`], and `Function` ("Task timed out") past the timeout.
pub async fn invoke_within<I: Invoker>(
    invoker: &I,
    function: &str,
    timeout: std::time::Duration,
    payload: Value,
) -> Result<Value, InvokeError> {
    match tokio::time::timeout(timeout, invoker.invoke(function, payload)).await {
        Ok(result) => result,
        Err(_) => Err(InvokeError::Function {
            function: function.to_owned(),
            message: format!("Task timed out after {:.2} seconds", timeout.as_secs_f64()),
        }),
    }
}

/// The Lambda Invoke API (`POST /2015-03-31/functions/<name>/invocations`), as served by
/// `cargo lambda watch` locally and by Lambda itself.
#[derive(Clone)]
pub struct InvokeApi {
    base_url: String,
    client: reqwest::Client,
}

impl InvokeApi {
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(base_url: &str) -> Result<Self, reqwest::Error> {
        // cargo lambda watch compiles a function on its first invocation: allow for it.
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(900))
            .build()?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client,
        })
    }
}

impl Invoker for InvokeApi {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let unreachable = |message: String| InvokeError::Unreachable {
            function: function.to_owned(),
            message,
        };
        let url = format!(
            "{}/2015-03-31/functions/{function}/invocations",
            self.base_url
        );
        let response = self
            .client
            .post(url)
            .json(&payload)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = response
            .bytes()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if function_error || !status.is_success() {
            let message = String::from_utf8_lossy(&body).chars().take(2000).collect();
            return Err(InvokeError::Function {
                function: function.to_owned(),
                message,
            });
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body).map_err(|e| InvokeError::Function {
            function: function.to_owned(),
            message: format!("response is not JSON: {e}"),
        })
    }
}

type Handler = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;
/// Per invocation: after how long it is killed, if at all.
type Kill = Arc<dyn Fn() -> Option<std::time::Duration> + Send + Sync>;

/// What Lambda reports for an invocation whose sandbox died.
pub const KILLED: &str = "Runtime exited with error: signal: killed";

/// Handlers called in this process, by function name.
#[derive(Clone, Default)]
pub struct InProcess {
    handlers: HashMap<String, Handler>,
    kills: HashMap<String, Kill>,
    killed: Arc<std::sync::atomic::AtomicUsize>,
}

impl InProcess {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a handler written for `lambda_runtime`: the JSON event is deserialised into
    /// `E`, the handler runs with a default context, and its output is serialised back, as the
    /// runtime does.
    #[must_use]
    pub fn with_handler<E, R, F, Fut, Err>(mut self, function: &str, handler: F) -> Self
    where
        E: serde::de::DeserializeOwned + Send + 'static,
        R: serde::Serialize,
        F: Fn(lambda_runtime::LambdaEvent<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Err>> + Send + 'static,
        Err: std::fmt::Display,
    {
        let handler = Arc::new(handler);
        let wrapped: Handler = Arc::new(move |payload: Value| {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let event: E = serde_json::from_value(payload)
                    .map_err(|e| format!("cannot deserialise event: {e}"))?;
                let output = handler(lambda_runtime::LambdaEvent::new(
                    event,
                    lambda_runtime::Context::default(),
                ))
                .await
                .map_err(|e| e.to_string())?;
                serde_json::to_value(output).map_err(|e| format!("cannot serialise response: {e}"))
            })
        });
        self.handlers.insert(function.to_owned(), wrapped);
        self
    }
}

impl InProcess {
    /// Kills invocations of `function` as `decide` says, per invocation: after how long (`None`:
    /// it runs to its end). A killed invocation's task is aborted at its next await point, so
    /// nothing more of it runs (what a sandbox killed mid-batch leaves behind: some webhooks sent,
    /// some writes made, no answer), and the invocation fails with [`KILLED`].
    #[must_use]
    pub fn with_kills<F>(mut self, function: &str, decide: F) -> Self
    where
        F: Fn() -> Option<std::time::Duration> + Send + Sync + 'static,
    {
        self.kills.insert(function.to_owned(), Arc::new(decide));
        self
    }

    /// How many invocations were killed so far (shared by clones).
    #[must_use]
    pub fn killed(&self) -> Arc<std::sync::atomic::AtomicUsize> {
        Arc::clone(&self.killed)
    }

    /// Registers an HTTP handler written for `lambda_http`: the JSON event goes through the
    /// same request/response adapter `lambda_http::run` uses.
    #[must_use]
    pub fn with_http_handler<F, Fut>(mut self, function: &str, handler: F) -> Self
    where
        F: Fn(lambda_http::Request) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
    {
        use lambda_http::tower::ServiceExt as _;
        let wrapped: Handler = Arc::new(move |payload: Value| {
            let handler = handler.clone();
            Box::pin(async move {
                let request: lambda_http::request::LambdaRequest = serde_json::from_value(payload)
                    .map_err(|e| format!("cannot deserialise request: {e}"))?;
                let service = lambda_http::service_fn(move |request| {
                    let handler = handler.clone();
                    async move { Ok::<_, std::convert::Infallible>(handler(request).await) }
                });
                let adapter: lambda_http::Adapter<'static, _, _> =
                    lambda_http::Adapter::from(service);
                let event =
                    lambda_runtime::LambdaEvent::new(request, lambda_runtime::Context::default());
                let response = adapter.oneshot(event).await.map_err(|e| e.to_string())?;
                serde_json::to_value(response)
                    .map_err(|e| format!("cannot serialise response: {e}"))
            })
        });
        self.handlers.insert(function.to_owned(), wrapped);
        self
    }
}

impl Invoker for InProcess {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let handler =
            self.handlers
                .get(function)
                .cloned()
                .ok_or_else(|| InvokeError::Unreachable {
                    function: function.to_owned(),
                    message: "no in-process handler registered".to_owned(),
                })?;
        // Run on its own task so a panicking handler is a failed invocation, as in Lambda.
        let task = tokio::spawn(handler(payload));
        let kill_after = self.kills.get(function).and_then(|decide| decide());
        let joined = match kill_after {
            None => task.await,
            Some(after) => {
                let abort = task.abort_handle();
                if let Ok(joined) = tokio::time::timeout(after, task).await {
                    joined
                } else {
                    abort.abort();
                    self.killed
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Err(InvokeError::Function {
                        function: function.to_owned(),
                        message: KILLED.to_owned(),
                    });
                }
            }
        };
        match joined {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(InvokeError::Function {
                function: function.to_owned(),
                message,
            }),
            Err(join) => Err(InvokeError::Function {
                function: function.to_owned(),
                message: join.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn a_killed_invocation_fails_and_nothing_more_of_it_runs() {
        let finished = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&finished);
        let mut invoker = InProcess::new().with_kills("slow", || Some(Duration::from_millis(20)));
        let handler: Handler = Arc::new(move |payload: Value| {
            let seen = Arc::clone(&seen);
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                seen.store(true, Ordering::SeqCst);
                Ok(payload)
            })
        });
        invoker.handlers.insert("slow".into(), Arc::clone(&handler));
        invoker.handlers.insert("quick".into(), handler);
        let killed = invoker.invoke("slow", Value::Null).await;
        assert_eq!(
            killed,
            Err(InvokeError::Function {
                function: "slow".into(),
                message: KILLED.into()
            })
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            !finished.load(Ordering::SeqCst),
            "the killed invocation ran on"
        );
        // Other functions run to their end.
        assert_eq!(invoker.invoke("quick", Value::Null).await, Ok(Value::Null));
        assert!(finished.load(Ordering::SeqCst));
    }

    /// Answers after its duration.
    struct Slow(Duration);

    impl Invoker for Slow {
        async fn invoke(&self, _function: &str, payload: Value) -> Result<Value, InvokeError> {
            tokio::time::sleep(self.0).await;
            Ok(payload)
        }
    }

    #[tokio::test]
    async fn an_invocation_past_the_function_timeout_fails_like_on_lambda() {
        let slow = Slow(Duration::from_secs(60));
        let result = invoke_within(&slow, "deliver", Duration::from_millis(50), Value::Null).await;
        assert_eq!(
            result,
            Err(InvokeError::Function {
                function: "deliver".into(),
                message: "Task timed out after 0.05 seconds".into()
            })
        );
        let quick = Slow(Duration::from_millis(1));
        let result = invoke_within(&quick, "deliver", Duration::from_secs(30), Value::Null).await;
        assert_eq!(result, Ok(Value::Null));
    }
}
