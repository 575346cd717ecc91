//! An HTTP API (API Gateway v2) stand-in: one base URL that routes every path to the function
//! `template.yaml` assigns it, with a payload-format-2.0 event, as API Gateway does.
//! (`cargo lambda watch` alone serves each function under its own `/lambda-url/<fn>/` prefix.)

use crate::authorizer::{Authorizers, Decision};
use crate::invoke::{InvokeError, Invoker};
use crate::template::RouteDef;
use base64::Engine as _;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;

/// API Gateway's payload limit for HTTP APIs.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

mod route;
use route::percent_decode;
pub use route::{Route, find_route};

/// The parts of an HTTP request the event is built from.
pub struct IncomingRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
    pub request_id: String,
}

/// The payload-format-2.0 event API Gateway sends for a request on `route`.
#[must_use]
pub fn api_gateway_event(
    route: &Route,
    path_parameters: Map<String, Value>,
    request: &IncomingRequest<'_>,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    // As API Gateway does, whatever the client sent (here the scheme is http).
    headers.insert("x-forwarded-proto".into(), Value::String("http".into()));
    let mut query = Map::new();
    for pair in request.query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decode(key), percent_decode(value));
        match query.get_mut(&key) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                query.insert(key, Value::String(value));
            }
        }
    }
    let (body, encoded) = match std::str::from_utf8(request.body) {
        _ if request.body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(request.body)),
            true,
        ),
    };
    let now = chrono::Utc::now();
    let header = |name: &str| headers.get(name).cloned().unwrap_or(Value::Null);
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.route_key(),
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": header("host"),
            "domainPrefix": "local",
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": header("user-agent"),
            },
            "requestId": request.request_id,
            "routeKey": route.route_key(),
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": encoded,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = Value::Object(path_parameters);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

type GatewayResponse = Response<Full<Bytes>>;

fn plain(status: StatusCode, message: &str) -> GatewayResponse {
    let mut response = Response::new(Full::new(Bytes::from(
        json!({ "message": message }).to_string(),
    )));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Turns a function's result into the HTTP response, as API Gateway does for format 2.0.
#[must_use]
pub fn http_response(result: &Value) -> GatewayResponse {
    let Some(status) = result.get("statusCode").and_then(Value::as_u64) else {
        // A result without statusCode is returned as a JSON body with status 200.
        let mut response = Response::new(Full::new(Bytes::from(result.to_string())));
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return response;
    };
    let body = result["body"].as_str().unwrap_or_default();
    let body = if result["isBase64Encoded"].as_bool() == Some(true) {
        match base64::engine::general_purpose::STANDARD.decode(body) {
            Ok(bytes) => bytes,
            Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    } else {
        body.as_bytes().to_vec()
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    let mut add = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    };
    for (name, value) in result["headers"].as_object().into_iter().flatten() {
        if let Some(value) = value.as_str() {
            add(name, value);
        }
    }
    for (name, values) in result["multiValueHeaders"]
        .as_object()
        .into_iter()
        .flatten()
    {
        for value in values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            add(name, value);
        }
    }
    for cookie in result["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        add("set-cookie", cookie);
    }
    response
}

struct Shared<I> {
    routes: Vec<Route>,
    invoker: Arc<I>,
    authorizers: Authorizers,
    next_id: AtomicU64,
}

/// Serves the API on `listener` until the task is dropped.
pub async fn serve<I: Invoker>(listener: TcpListener, routes: Vec<RouteDef>, invoker: Arc<I>) {
    let shared = Arc::new(Shared {
        routes: routes.into_iter().map(Route::new).collect(),
        invoker,
        authorizers: Authorizers::default(),
        next_id: AtomicU64::new(1),
    });
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, std::convert::Infallible>(handle(&shared, request, peer).await) }
            });
            if let Err(error) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
}

async fn handle<I: Invoker>(
    shared: &Shared<I>,
    request: http::Request<Incoming>,
    peer: SocketAddr,
) -> GatewayResponse {
    let (parts, body) = request.into_parts();
    let Ok(body) = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
    else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let Some((route, parameters)) = find_route(&shared.routes, method, path) else {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    };
    let request_id = format!("local-{}", shared.next_id.fetch_add(1, Ordering::Relaxed));
    let incoming = IncomingRequest {
        method,
        path,
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip().to_string(),
        request_id,
    };
    let mut event = api_gateway_event(route, parameters, &incoming);
    let started = std::time::Instant::now();
    if let Some(authorizer) = &route.def.authorizer {
        match shared
            .authorizers
            .decide(&*shared.invoker, authorizer, &event)
            .await
        {
            Decision::Allow(context) => {
                event["requestContext"]["authorizer"] = json!({ "lambda": context });
            }
            Decision::Unauthorized => return plain(StatusCode::UNAUTHORIZED, "Unauthorized"),
            Decision::Forbidden => return plain(StatusCode::FORBIDDEN, "Forbidden"),
            Decision::Failed(error) => {
                tracing::error!(method, path, %error, "authorizer failed");
                return plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            }
        }
    }
    let result = shared.invoker.invoke(&route.def.binary, event).await;
    let elapsed_ms = started.elapsed().as_millis();
    match result {
        Ok(value) => {
            let response = http_response(&value);
            let status = response.status().as_u16();
            let function = &route.def.binary;
            tracing::info!(method, path, function, status, elapsed_ms, "request");
            response
        }
        // API Gateway answers an integration failure with a bare 500, whatever the cause.
        Err(error @ (InvokeError::Function { .. } | InvokeError::Unreachable { .. })) => {
            tracing::error!(method, path, %error, elapsed_ms, "integration failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

#[cfg(test)]
mod tests;
