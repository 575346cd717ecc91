//! `resources`: the HTTP API for users and photo likes. Each change is written with its event
//! in one transaction (the outbox the delivery pipeline reads).

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde_json::json;
use shared::api::{Api, Caller, PageRequest};
use shared::error::{ApiError, ApiResult};
use shared::http::{Routes, header, json as json_response, json_body, query, route};
use shared::ports::delivery::{DeliveryQueue, DeliveryStore};
use shared::ports::resolver::Resolver;
use shared::ports::{AccountStore, EventStore, PhotoStore, SubscriptionStore, UserStore};

/// Every route this function serves; `template.yaml` routes exactly these here.
/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::config::ApiConfig::VARS;

pub const ROUTES: Routes = &[
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("PUT", "/api/v1/users/{id}"),
    ("DELETE", "/api/v1/users/{id}"),
    ("POST", "/api/v1/photos/{photo_id}/likes"),
    ("GET", "/api/v1/photos/{photo_id}"),
];

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
    if template == "/api/v1/health" {
        return Ok(json_response(
            StatusCode::OK,
            &json!({"status": "ok", "service": shared::PRODUCT, "function": "resources"}),
        ));
    }
    let Caller::Account(account) = api
        .identify(
            shared::auth::vouched_caller(request),
            header(request, "authorization"),
        )
        .await?
    else {
        return Err(ApiError::Unauthorized);
    };
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let ok = |body: serde_json::Value| json_response(StatusCode::OK, &body);
    Ok(match (method, template) {
        ("POST", "/api/v1/users") => json_response(
            StatusCode::CREATED,
            &api.create_user(&account, json_body(request)?).await?,
        ),
        ("GET", "/api/v1/users") => {
            let page = PageRequest::parse(
                query(request, "limit").as_deref(),
                query(request, "cursor").as_deref(),
            )?;
            ok(api.list_users(&account, page).await?)
        }
        ("GET", "/api/v1/users/{id}") => ok(api.get_user(&account, param("id")).await?),
        ("PUT", "/api/v1/users/{id}") => ok(api
            .update_user(&account, param("id"), json_body(request)?)
            .await?),
        ("DELETE", "/api/v1/users/{id}") => {
            api.delete_user(&account, param("id")).await?;
            shared::http::no_content()
        }
        ("POST", "/api/v1/photos/{photo_id}/likes") => json_response(
            StatusCode::ACCEPTED,
            &api.like_photo(&account, param("photo_id")).await?,
        ),
        ("GET", "/api/v1/photos/{photo_id}") => {
            ok(api.get_photo(&account, param("photo_id")).await?)
        }
        _ => {
            return Err(ApiError::NoRoute {
                method: method.to_owned(),
                path: request.uri().path().to_owned(),
            });
        }
    })
}
