//! Reading a request: its headers, query string and JSON body.

use super::response::JSON;
use crate::api::PageRequest;
use crate::api::error::{ApiError, ApiResult};
use crate::domain::json_text;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

/// Largest request body accepted (API Gateway itself allows 10 MB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A request header as text.
#[must_use]
pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A request header whatever bytes it holds (those that are not UTF-8 become U+FFFD), for a
/// header whose rules the API checks itself: a value that is not text is refused by them, where
/// [`header`] would make it absent.
#[must_use]
pub fn header_raw<'a>(request: &'a Request, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    request
        .headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
}

/// A query string parameter (the first, when repeated).
#[must_use]
pub fn query(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// The origin the caller reached the API at: the scheme API Gateway forwards (`https`, and
/// `http` from the local gateway) and the `Host` (`localhost` when it is not a host name).
#[must_use]
pub fn origin(request: &Request) -> String {
    let scheme = match header(request, "x-forwarded-proto") {
        Some("http") => "http",
        _ => "https",
    };
    let host = header(request, "host")
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// Whether the request carries a body at all.
#[must_use]
pub fn has_body(request: &Request) -> bool {
    match request.body() {
        Body::Text(text) => !text.trim().is_empty(),
        Body::Binary(bytes) => !bytes.is_empty(),
        _ => false,
    }
}

/// The JSON body of a request, as `T`.
///
/// # Errors
/// 413 over [`MAX_BODY_BYTES`]; 415 when not declared JSON; 400 when not UTF-8, not JSON, of
/// the wrong shape, with unknown fields, with a key twice in an object or a number that would
/// not be kept exactly ([`json_text`]).
pub fn json_body<T: DeserializeOwned>(request: &Request) -> ApiResult<T> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => return Err(ApiError::BadRequest("unreadable body".into())),
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let media_type = header(request, "content-type")
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if media_type != JSON
        && !(media_type.starts_with("application/") && media_type.ends_with("+json"))
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("a JSON body is required".into()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
    let value = serde_json::from_str(text)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    json_text::check(text).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    Ok(value)
}

/// The `?limit=&cursor=` of a listing.
///
/// # Errors
/// `limit` out of range (422).
pub fn page(request: &Request) -> ApiResult<PageRequest> {
    PageRequest::parse(
        query(request, "limit").as_deref(),
        query(request, "cursor").as_deref(),
    )
}
