//! The route table: every operation of the HTTP API, its method and path, the function that
//! serves it and who may call it. It is the one source for each function's router, for the
//! check that `template.yaml` routes the same paths to the same functions, and for the paths of
//! the OpenAPI document.

use crate::api::error::{ApiError, ApiResult};
use std::collections::HashMap;

/// The Lambda function that serves a route (its package and binary name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Resources,
    Subscriptions,
}

impl Function {
    /// The function's package, binary and `BuildProperties.Binary` name.
    #[must_use]
    pub const fn binary(self) -> &'static str {
        match self {
            Self::Resources => "resources",
            Self::Subscriptions => "subscriptions",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: no key, and no authorizer in front of it.
    Open,
    /// An account's API key.
    Account,
    /// The deployment's admin key.
    Admin,
}

/// Every operation of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Health,
    OpenApi,
    CreateAccount,
    RedriveDeadLetters,
    CreateUser,
    ListUsers,
    GetUser,
    UpdateUser,
    DeleteUser,
    LikePhoto,
    GetPhoto,
    CreateSubscription,
    ListSubscriptions,
    GetSubscription,
    UpdateSubscription,
    DeleteSubscription,
    GetSecret,
    RotateSecret,
    TestSubscription,
    TestAllSubscriptions,
    ListAttempts,
    PublishEvent,
    ListEvents,
    GetEvent,
    ResendEvent,
    ListEventTypes,
    ReplaySubscription,
    UpdateAccount,
    CreateApiKey,
    ListApiKeys,
    RevokeApiKey,
    VerifySubscription,
    GetSampleEvents,
    PutSampleEvents,
    CreatePortalSession,
}

/// One route: `{name}` in the path is a path parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub operation: Operation,
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
    pub access: Access,
}

const fn r(
    operation: Operation,
    method: &'static str,
    path: &'static str,
    function: Function,
    access: Access,
) -> Route {
    Route {
        operation,
        method,
        path,
        function,
        access,
    }
}

use Access::{Account, Admin, Open};
use Function::{Resources, Subscriptions};
use Operation as O;

/// Every route of the API.
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    r(O::Health, "GET", "/api/v1/health", Resources, Open),
    r(O::CreateUser, "POST", "/api/v1/users", Resources, Account),
    r(O::ListUsers, "GET", "/api/v1/users", Resources, Account),
    r(O::GetUser, "GET", "/api/v1/users/{id}", Resources, Account),
    r(O::UpdateUser, "PUT", "/api/v1/users/{id}", Resources, Account),
    r(O::DeleteUser, "DELETE", "/api/v1/users/{id}", Resources, Account),
    r(O::LikePhoto, "POST", "/api/v1/photos/{photo_id}/likes", Resources, Account),
    r(O::GetPhoto, "GET", "/api/v1/photos/{photo_id}", Resources, Account),
    r(O::OpenApi, "GET", "/api/v1/openapi.json", Subscriptions, Open),
    r(O::CreateAccount, "POST", "/api/v1/accounts", Subscriptions, Admin),
    r(O::UpdateAccount, "PATCH", "/api/v1/accounts/{id}", Subscriptions, Admin),
    r(O::CreateApiKey, "POST", "/api/v1/api-keys", Subscriptions, Account),
    r(O::ListApiKeys, "GET", "/api/v1/api-keys", Subscriptions, Account),
    r(O::RevokeApiKey, "DELETE", "/api/v1/api-keys/{id}", Subscriptions, Account),
    r(O::RedriveDeadLetters, "POST", "/api/v1/admin/dlq/redrive", Subscriptions, Admin),
    r(O::CreateSubscription, "POST", "/api/v1/subscriptions", Subscriptions, Account),
    r(O::ListSubscriptions, "GET", "/api/v1/subscriptions", Subscriptions, Account),
    r(O::GetSubscription, "GET", "/api/v1/subscriptions/{id}", Subscriptions, Account),
    r(O::UpdateSubscription, "PATCH", "/api/v1/subscriptions/{id}", Subscriptions, Account),
    r(O::DeleteSubscription, "DELETE", "/api/v1/subscriptions/{id}", Subscriptions, Account),
    r(O::GetSecret, "GET", "/api/v1/subscriptions/{id}/secret", Subscriptions, Account),
    r(O::ListAttempts, "GET", "/api/v1/subscriptions/{id}/attempts", Subscriptions, Account),
    r(O::RotateSecret, "POST", "/api/v1/subscriptions/{id}/secret/rotate", Subscriptions, Account),
    r(O::TestSubscription, "POST", "/api/v1/subscriptions/{id}/test", Subscriptions, Account),
    r(O::VerifySubscription, "POST", "/api/v1/subscriptions/{id}/verify", Subscriptions, Account),
    r(O::TestAllSubscriptions, "POST", "/api/v1/subscriptions/test", Subscriptions, Account),
    r(O::ReplaySubscription, "POST", "/api/v1/subscriptions/{id}/replay", Subscriptions, Account),
    r(O::PublishEvent, "POST", "/api/v1/events", Subscriptions, Account),
    r(O::ListEvents, "GET", "/api/v1/events", Subscriptions, Account),
    r(O::GetEvent, "GET", "/api/v1/events/{id}", Subscriptions, Account),
    r(O::ResendEvent, "POST", "/api/v1/events/{id}/resend", Subscriptions, Account),
    r(O::ListEventTypes, "GET", "/api/v1/event-types", Subscriptions, Account),
    r(O::GetSampleEvents, "GET", "/api/v1/sample-events", Subscriptions, Account),
    r(O::PutSampleEvents, "PUT", "/api/v1/sample-events", Subscriptions, Account),
    r(O::CreatePortalSession, "POST", "/api/v1/portal/sessions", Subscriptions, Account),
];

/// The routes `function` serves.
pub fn served_by(function: Function) -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(move |r| r.function == function)
}

/// The names of a path template's parameters, in order: `{id}` → `id`.
pub fn path_parameters(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
}

/// A request matched to its route, with its path parameters.
#[derive(Debug, Clone)]
pub struct Matched {
    pub route: &'static Route,
    pub params: HashMap<String, String>,
}

impl Matched {
    /// A path parameter (empty when the route has none of that name).
    #[must_use]
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }

    /// A path parameter that is an id of `what`: one that is not well formed names nothing, so
    /// it is not found, as an unknown one is (and never reaches a store).
    ///
    /// # Errors
    /// `NotFound(what)` when the parameter is not such an id.
    pub fn id<T: std::str::FromStr>(&self, name: &str, what: &'static str) -> ApiResult<T> {
        self.param(name)
            .parse()
            .map_err(|_| ApiError::NotFound(what))
    }
}

/// Which of `function`'s routes a request is for, and its path parameters. A path is the
/// resource of the most specific templates that match it (a literal segment beats a parameter,
/// left to right: `/subscriptions/test` is not subscription "test"), and their methods are
/// all it has. A request no route of the API matches reaches a function through the gateway's
/// `$default` route, so the answer considers every route: 405 names the path's methods,
/// whichever function serves them. Paths match exactly (`/api/v1/users/` is not
/// `/api/v1/users`).
///
/// # Errors
/// 405 (with the allowed methods) for a path that has other methods; 404 for a path no route
/// has, and for a route another function serves (the gateway never sends it here).
pub fn route(function: Function, method: &str, path: &str) -> ApiResult<Matched> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Vec<(&'static Route, HashMap<String, String>)> = Vec::new();
    for candidate in ROUTES {
        let Some(params) = captures(candidate.path, &segments) else {
            continue;
        };
        match best
            .first()
            .map(|(r, _)| specificity(candidate.path).cmp(&specificity(r.path)))
        {
            Some(std::cmp::Ordering::Less) => continue,
            Some(std::cmp::Ordering::Greater) => best.clear(),
            _ => {}
        }
        best.push((candidate, params));
    }
    let mut allow = Vec::new();
    for (candidate, params) in best {
        if candidate.method != method {
            allow.push(candidate.method);
        } else if candidate.function == function {
            return Ok(Matched {
                route: candidate,
                params,
            });
        } else {
            allow.clear();
            break;
        }
    }
    if allow.is_empty() {
        Err(ApiError::NoRoute {
            method: method.to_owned(),
            path: path.to_owned(),
        })
    } else {
        Err(ApiError::MethodNotAllowed { allow })
    }
}

/// How specific a path template is, segment by segment: literal 1, parameter 0.
fn specificity(template: &str) -> Vec<u8> {
    template
        .split('/')
        .map(|part| u8::from(!part.starts_with('{')))
        .collect()
}

/// The path parameters of `template` in a path split at `/`, when it matches.
fn captures(template: &str, segments: &[&str]) -> Option<HashMap<String, String>> {
    let parts: Vec<&str> = template.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (part, segment) in parts.iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => {
                params.insert(name.to_owned(), (*segment).to_owned());
            }
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    Some(params)
}
