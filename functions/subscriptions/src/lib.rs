//! `subscriptions`: the HTTP API for accounts (admin), subscriptions and events, the OpenAPI
//! document of the whole API, and the web portal (`/portal/…`, `shared::portal`).

use lambda_http::{Body, Request, Response, http::StatusCode};
use shared::api::Api;
use shared::api::error::{ApiError, ApiResult};
use shared::http::{
    Function, Operation, grant, has_body, header_raw, json, json_body, no_content, ok, origin,
    page, query, route,
};
use shared::model::{AccountId, ApiKeyId, EventId, SubscriptionId};
use shared::ports::Stores;
use shared::ports::delivery::DeliveryQueue;
use shared::ports::resolver::Resolver;

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::wiring::config::ApiConfig::WITH_QUEUES_VARS;

/// This function in the route table (`shared::http::ROUTES`).
pub const FUNCTION: Function = Function::Subscriptions;

/// Handles one API Gateway request. Never fails: every outcome is an HTTP response.
pub async fn handle<S: Stores, R: Resolver, Q: DeliveryQueue>(
    api: &Api<S, R, Q>,
    request: Request,
) -> Response<Body> {
    if shared::portal::is_portal_path(request.uri().path()) {
        return shared::portal::handle(api, &request).await;
    }
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
    let account = || grant.account();
    let subscription = || matched.id::<SubscriptionId>("id", "subscription");
    let event = || matched.id::<EventId>("id", "event");
    Ok(match matched.route.operation {
        Operation::OpenApi => ok(shared::http::openapi::document()),
        Operation::CreateAccount => json(
            StatusCode::CREATED,
            &api.create_account(json_body(request)?).await?,
        ),
        Operation::UpdateAccount => {
            let id = matched.id::<AccountId>("id", "account")?;
            ok(&api.update_account(&id, json_body(request)?).await?)
        }
        Operation::CreateApiKey => json(
            StatusCode::CREATED,
            &api.create_api_key(&account()?, json_body(request)?).await?,
        ),
        Operation::ListApiKeys => ok(&api.list_api_keys(&account()?, page(request)?).await?),
        Operation::RevokeApiKey => {
            let id = matched.id::<ApiKeyId>("id", "API key")?;
            api.revoke_api_key(&account()?, &id).await?;
            no_content()
        }
        Operation::RedriveDeadLetters => {
            json(StatusCode::ACCEPTED, &api.redrive_dead_letters().await?)
        }
        Operation::CreateSubscription => json(
            StatusCode::CREATED,
            &api.create_subscription(&account()?, json_body(request)?)
                .await?,
        ),
        Operation::ListSubscriptions => ok(&api
            .list_subscriptions(
                &account()?,
                query(request, "event_type").as_deref(),
                page(request)?,
            )
            .await?),
        Operation::GetSubscription => {
            ok(&api.get_subscription(&account()?, &subscription()?).await?)
        }
        Operation::UpdateSubscription => ok(&api
            .update_subscription(&account()?, &subscription()?, json_body(request)?)
            .await?),
        Operation::DeleteSubscription => {
            api.delete_subscription(&account()?, &subscription()?)
                .await?;
            no_content()
        }
        Operation::GetSecret => ok(&api.get_secret(&account()?, &subscription()?).await?),
        Operation::RotateSecret => ok(&api.rotate_secret(&account()?, &subscription()?).await?),
        Operation::VerifySubscription => json(
            StatusCode::ACCEPTED,
            &api.verify_subscription(&account()?, &subscription()?)
                .await?,
        ),
        Operation::TestSubscription => json(
            StatusCode::ACCEPTED,
            &api.test_subscription(&account()?, &subscription()?).await?,
        ),
        Operation::TestAllSubscriptions => json(
            StatusCode::ACCEPTED,
            &api.test_all_subscriptions(&account()?).await?,
        ),
        Operation::ReplaySubscription => json(
            StatusCode::ACCEPTED,
            &api.replay(&account()?, &subscription()?, json_body(request)?)
                .await?,
        ),
        Operation::ListAttempts => ok(&api
            .list_attempts(&account()?, &subscription()?, page(request)?)
            .await?),
        Operation::PublishEvent => {
            let key = header_raw(request, "idempotency-key");
            let (body, replayed) = api
                .publish_event(&account()?, json_body(request)?, key.as_deref())
                .await?;
            let mut response = json(StatusCode::ACCEPTED, &body);
            if replayed {
                response.headers_mut().insert(
                    "idempotent-replayed",
                    lambda_http::http::HeaderValue::from_static("true"),
                );
            }
            response
        }
        Operation::ListEvents => ok(&api
            .list_events(
                &account()?,
                query(request, "type").as_deref(),
                page(request)?,
            )
            .await?),
        Operation::GetSampleEvents => ok(&api.get_sample_events(&account()?).await?),
        Operation::PutSampleEvents => ok(&api
            .put_sample_events(&account()?, json_body(request)?)
            .await?),
        Operation::CreatePortalSession => {
            let input = if has_body(request) {
                json_body(request)?
            } else {
                shared::api::wire::NewPortalSession::default()
            };
            json(
                StatusCode::CREATED,
                &api.create_portal_link(&account()?, input, &origin(request))
                    .await?,
            )
        }
        Operation::ListEventTypes => ok(&api.list_event_types(&account()?, page(request)?).await?),
        Operation::GetEvent => ok(&api.get_event(&account()?, &event()?).await?),
        Operation::ResendEvent => {
            let input = if has_body(request) {
                Some(json_body(request)?)
            } else {
                None
            };
            json(
                StatusCode::ACCEPTED,
                &api.resend_event(&account()?, &event()?, input).await?,
            )
        }
        other => {
            return Err(ApiError::Internal(format!(
                "{other:?} is routed to {FUNCTION:?}, which does not serve it"
            )));
        }
    })
}
