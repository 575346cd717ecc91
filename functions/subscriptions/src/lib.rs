//! `subscriptions`: the HTTP API for accounts (admin), subscriptions and events, and the
//! OpenAPI document of the whole API.

use lambda_http::{Body, Request, Response, http::StatusCode};
use shared::api::{Api, Caller, PageRequest};
use shared::error::{ApiError, ApiResult};
use shared::http::{Routes, header, json as json_response, json_body, query, route};
use shared::ports::delivery::{DeliveryQueue, DeliveryStore};
use shared::ports::resolver::Resolver;
use shared::ports::{AccountStore, EventStore, PhotoStore, SubscriptionStore, UserStore};

/// Every route this function serves; `template.yaml` routes exactly these here.
/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::config::ApiConfig::WITH_QUEUES_VARS;

pub const ROUTES: Routes = &[
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/accounts"),
    ("POST", "/api/v1/admin/dlq/redrive"),
    ("POST", "/api/v1/subscriptions"),
    ("GET", "/api/v1/subscriptions"),
    ("GET", "/api/v1/subscriptions/{id}"),
    ("PATCH", "/api/v1/subscriptions/{id}"),
    ("DELETE", "/api/v1/subscriptions/{id}"),
    ("GET", "/api/v1/subscriptions/{id}/secret"),
    ("GET", "/api/v1/subscriptions/{id}/attempts"),
    ("POST", "/api/v1/subscriptions/{id}/secret/rotate"),
    ("POST", "/api/v1/subscriptions/{id}/test"),
    ("POST", "/api/v1/events"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/{id}"),
    ("POST", "/api/v1/events/{id}/resend"),
];

/// The OpenAPI 3.1 description of every route of the API (both functions).
pub const OPENAPI: &str = include_str!("openapi.json");

/// Handles one API Gateway request. Never fails: every outcome is an HTTP response.
pub async fn handle<S, R, Q>(api: &Api<S, R, Q>, request: Request) -> Response<Body>
where
    S: AccountStore + UserStore + PhotoStore + SubscriptionStore + EventStore + DeliveryStore,
    R: Resolver,
    Q: DeliveryQueue,
{
    let started = std::time::Instant::now();
    let outcome = dispatch(api, &request).await;
    shared::http::finish(&request, started, outcome)
}

async fn dispatch<S, R, Q>(api: &Api<S, R, Q>, request: &Request) -> ApiResult<Response<Body>>
where
    S: AccountStore + UserStore + PhotoStore + SubscriptionStore + EventStore + DeliveryStore,
    R: Resolver,
    Q: DeliveryQueue,
{
    let method = request.method().as_str();
    let (template, params) = route(ROUTES, method, request.uri().path())?;
    if template == "/api/v1/openapi.json" {
        let document: serde_json::Value = serde_json::from_str(OPENAPI)
            .map_err(|e| ApiError::Internal(format!("openapi.json: {e}")))?;
        return Ok(json_response(StatusCode::OK, &document));
    }
    let caller = api
        .identify(
            shared::auth::vouched_caller(request),
            header(request, "authorization"),
        )
        .await?;
    if template == "/api/v1/accounts" {
        if caller != Caller::Admin {
            return Err(ApiError::Unauthorized);
        }
        return Ok(json_response(
            StatusCode::CREATED,
            &api.create_account(json_body(request)?).await?,
        ));
    }
    if template == "/api/v1/admin/dlq/redrive" {
        if caller != Caller::Admin {
            return Err(ApiError::Unauthorized);
        }
        return Ok(json_response(
            StatusCode::ACCEPTED,
            &api.redrive_dead_letters().await?,
        ));
    }
    let Caller::Account(account) = caller else {
        return Err(ApiError::Unauthorized);
    };
    let id = params.get("id").map(String::as_str).unwrap_or_default();
    let page = || {
        PageRequest::parse(
            query(request, "limit").as_deref(),
            query(request, "cursor").as_deref(),
        )
    };
    let ok = |body: serde_json::Value| json_response(StatusCode::OK, &body);
    Ok(match (method, template) {
        ("POST", "/api/v1/subscriptions") => json_response(
            StatusCode::CREATED,
            &api.create_subscription(&account, json_body(request)?)
                .await?,
        ),
        ("GET", "/api/v1/subscriptions") => ok(api
            .list_subscriptions(&account, query(request, "event_type").as_deref(), page()?)
            .await?),
        ("GET", "/api/v1/subscriptions/{id}") => ok(api.get_subscription(&account, id).await?),
        ("PATCH", "/api/v1/subscriptions/{id}") => ok(api
            .update_subscription(&account, id, json_body(request)?)
            .await?),
        ("DELETE", "/api/v1/subscriptions/{id}") => {
            api.delete_subscription(&account, id).await?;
            shared::http::no_content()
        }
        ("GET", "/api/v1/subscriptions/{id}/secret") => ok(api.get_secret(&account, id).await?),
        ("POST", "/api/v1/subscriptions/{id}/secret/rotate") => {
            ok(api.rotate_secret(&account, id).await?)
        }
        ("POST", "/api/v1/subscriptions/{id}/test") => json_response(
            StatusCode::ACCEPTED,
            &api.test_subscription(&account, id).await?,
        ),
        ("POST", "/api/v1/events") => {
            let key = header(request, "idempotency-key");
            let (body, replayed) = api
                .publish_event(&account, json_body(request)?, key)
                .await?;
            let mut response = json_response(StatusCode::ACCEPTED, &body);
            if replayed {
                response.headers_mut().insert(
                    "idempotent-replayed",
                    lambda_http::http::HeaderValue::from_static("true"),
                );
            }
            response
        }
        ("GET", "/api/v1/events") => ok(api
            .list_events(&account, query(request, "type").as_deref(), page()?)
            .await?),
        ("GET", "/api/v1/subscriptions/{id}/attempts") => {
            ok(api.list_attempts(&account, id, page()?).await?)
        }
        ("POST", "/api/v1/events/{id}/resend") => {
            let input = if shared::http::has_body(request) {
                Some(json_body(request)?)
            } else {
                None
            };
            json_response(
                StatusCode::ACCEPTED,
                &api.resend_event(&account, id, input).await?,
            )
        }
        ("GET", "/api/v1/events/{id}") => ok(api.get_event(&account, id).await?),
        _ => {
            return Err(ApiError::NoRoute {
                method: method.to_owned(),
                path: request.uri().path().to_owned(),
            });
        }
    })
}
