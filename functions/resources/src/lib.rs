//! `resources`: the HTTP API for users and photo likes. Each change is written with its event
//! in one transaction (the outbox the delivery pipeline reads).

use lambda_http::{Body, Request, Response, http::StatusCode};
use shared::api::Api;
use shared::api::error::{ApiError, ApiResult};
use shared::api::wire::Health;
use shared::http::{Function, Operation, grant, json, json_body, no_content, ok, page, route};
use shared::model::UserId;
use shared::ports::Stores;
use shared::ports::delivery::DeliveryQueue;
use shared::ports::resolver::Resolver;

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::wiring::config::ApiConfig::VARS;

/// This function in the route table (`shared::http::ROUTES`).
pub const FUNCTION: Function = Function::Resources;

/// Handles one API Gateway request. Never fails: every outcome is an HTTP response.
pub async fn handle<S: Stores, R: Resolver, Q: DeliveryQueue>(
    api: &Api<S, R, Q>,
    request: Request,
) -> Response<Body> {
    shared::http::answer(&request, dispatch(api, &request)).await
}

async fn dispatch<S, R, Q>(api: &Api<S, R, Q>, request: &Request) -> ApiResult<Response<Body>>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    let matched = route(FUNCTION, request.method().as_str(), request.uri().path())?;
    let grant = grant(api, request, matched.route.access).await?;
    let user = || matched.id::<UserId>("id", "user");
    Ok(match matched.route.operation {
        Operation::Health => ok(&Health {
            status: "ok",
            service: shared::PRODUCT,
            function: FUNCTION.binary(),
        }),
        Operation::CreateUser => json(
            StatusCode::CREATED,
            &api.create_user(&grant.account()?, json_body(request)?)
                .await?,
        ),
        Operation::ListUsers => ok(&api.list_users(&grant.account()?, page(request)?).await?),
        Operation::GetUser => ok(&api.get_user(&grant.account()?, &user()?).await?),
        Operation::UpdateUser => ok(&api
            .update_user(&grant.account()?, &user()?, json_body(request)?)
            .await?),
        Operation::DeleteUser => {
            api.delete_user(&grant.account()?, &user()?).await?;
            no_content()
        }
        Operation::LikePhoto => json(
            StatusCode::ACCEPTED,
            &api.like_photo(&grant.account()?, matched.param("photo_id"))
                .await?,
        ),
        Operation::GetPhoto => ok(&api
            .get_photo(&grant.account()?, matched.param("photo_id"))
            .await?),
        other => {
            return Err(ApiError::Internal(format!(
                "{other:?} is routed to {FUNCTION:?}, which does not serve it"
            )));
        }
    })
}
