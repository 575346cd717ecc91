//! The end of every request: its outcome as a response, and its one log line.

use super::problem::error_response;
use crate::api::error::ApiResult;
use lambda_http::{Body, Request, Response};

/// The response for a dispatched request (errors mapped by [`error_response`]), with one log
/// line: method, path, status, duration. Never the body, the key or any other header.
#[must_use]
pub fn finish(
    request: &Request,
    started: std::time::Instant,
    outcome: ApiResult<Response<Body>>,
) -> Response<Body> {
    let response = outcome.unwrap_or_else(|error| error_response(&error));
    tracing::info!(
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis(),
        "request"
    );
    response
}
