//! The end of every request: its outcome as a response, and its one log line.

use super::problem::error_response;
use crate::api::error::ApiResult;
use lambda_http::{Body, Request, Response};

/// Awaits a request's dispatch and answers its outcome (errors mapped by [`error_response`]),
/// with one log line: method, path, status, duration. Never the body, the key or any other
/// header.
pub async fn answer(
    request: &Request,
    dispatch: impl Future<Output = ApiResult<Response<Body>>>,
) -> Response<Body> {
    let started = std::time::Instant::now();
    let response = dispatch
        .await
        .unwrap_or_else(|error| error_response(&error));
    tracing::info!(
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis(),
        "request"
    );
    response
}
