//! Who may run a matched route: the caller API Gateway's authorizer vouched for in the request's
//! context, or (a direct invocation, with no context) the one its `Authorization` header names.

use super::request::header;
use super::routes::Access;
use crate::api::Api;
use crate::api::auth::{Caller, from_context};
use crate::api::error::{ApiError, ApiResult};
use crate::model::AccountId;
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// What a request may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// An open route: anyone.
    Anyone,
    Admin,
    Account(AccountId),
}

impl Grant {
    /// The caller's account (a route whose access is [`Access::Account`] only ever has an
    /// account's grant).
    ///
    /// # Errors
    /// `Unauthorized` when the grant is not an account's.
    pub fn account(&self) -> ApiResult<AccountId> {
        match self {
            Self::Account(account) => Ok(*account),
            Self::Anyone | Self::Admin => Err(ApiError::Unauthorized),
        }
    }
}

/// The caller API Gateway's authorizer vouched for in this request's context, if any.
#[must_use]
pub fn vouched_caller(request: &lambda_http::Request) -> Option<Caller> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => {
            let authorizer = context.authorizer.as_ref()?;
            from_context(|name| authorizer.fields.get(name))
        }
        _ => None,
    }
}

/// What a request to a route with `access` may do.
///
/// # Errors
/// `Unauthorized` when no caller is known, or the caller is not the one `access` asks for.
pub async fn grant<S, R, Q>(
    api: &Api<S, R, Q>,
    request: &lambda_http::Request,
    access: Access,
) -> ApiResult<Grant>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    if access == Access::Open {
        return Ok(Grant::Anyone);
    }
    let caller = api
        .identify(vouched_caller(request), header(request, "authorization"))
        .await?;
    match (access, caller) {
        (Access::Admin, Caller::Admin) => Ok(Grant::Admin),
        (Access::Account, Caller::Account(account)) => Ok(Grant::Account(account)),
        _ => Err(ApiError::Unauthorized),
    }
}
