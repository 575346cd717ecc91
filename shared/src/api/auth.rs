//! Who is calling. On AWS the HTTP API's Lambda authorizer (`functions/authorizer`) checks the
//! bearer key first and API Gateway caches its answer per key for minutes; so that a revoked key
//! or a disabled account is refused at once, every API function looks an account key up again
//! (one read) and takes the caller from that; the admin key is taken from the authorizer's
//! context. The key itself is only ever compared hashed (accounts) or in constant time (the admin
//! key). A request without that context (a direct invocation: `sam local invoke`, `cargo lambda
//! invoke`) is authenticated from its `Authorization` header by the same rule
//! ([`crate::http::grant`] reads the context of a request).

use crate::api::error::{ApiError, ApiResult};
use crate::domain::secrets;
use crate::model::{AccountId, KeyOwner};
use crate::ports::AccountStore;
use serde_json::{Map, Value};

/// The authorizer context key naming the kind of caller: `admin` or `account`.
pub const CONTEXT_CALLER: &str = "caller";
/// The authorizer context key holding an account caller's account id.
pub const CONTEXT_ACCOUNT: &str = "account_id";
/// Longest bearer key looked up; longer ones are refused without a store call.
const MAX_KEY_CHARS: usize = 200;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Account(AccountId),
}

/// The key of an `Authorization: Bearer <key>` header, if the header has that shape.
#[must_use]
pub fn bearer_key(authorization: Option<&str>) -> Option<&str> {
    authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_CHARS)
}

/// Who an `Authorization` header belongs to: the admin (the deployment's admin key, when it has
/// one) or the account whose key hashes to a stored key hash.
///
/// # Errors
/// `Unauthorized` when the header is missing, not `Bearer`, or matches no key; the store's
/// failure as it is.
pub async fn authenticate(
    store: &impl AccountStore,
    admin_key: Option<&str>,
    authorization: Option<&str>,
) -> ApiResult<Caller> {
    Ok(authenticate_key(store, admin_key, authorization).await?.0)
}

/// As [`authenticate`], with the account key that matched (none for the admin).
///
/// # Errors
/// As [`authenticate`].
pub async fn authenticate_key(
    store: &impl AccountStore,
    admin_key: Option<&str>,
    authorization: Option<&str>,
) -> ApiResult<(Caller, Option<KeyOwner>)> {
    let key = bearer_key(authorization).ok_or(ApiError::Unauthorized)?;
    if admin_key.is_some_and(|admin| secrets::secrets_equal(admin, key)) {
        return Ok((Caller::Admin, None));
    }
    match store.account_for_key(&secrets::api_key_hash(key)).await? {
        Some(owner) => Ok((Caller::Account(owner.account_id), Some(owner))),
        None => Err(ApiError::Unauthorized),
    }
}

/// The authorizer context that names `caller` (string values only, as API Gateway requires of
/// a simple response's context).
#[must_use]
pub fn to_context(caller: &Caller) -> Map<String, Value> {
    let mut context = Map::new();
    match caller {
        Caller::Admin => {
            context.insert(CONTEXT_CALLER.into(), "admin".into());
        }
        Caller::Account(account) => {
            context.insert(CONTEXT_CALLER.into(), "account".into());
            context.insert(CONTEXT_ACCOUNT.into(), account.to_string().into());
        }
    }
    context
}

/// The caller an authorizer context names; `None` for anything else.
#[must_use]
pub fn from_context<'a>(mut field: impl FnMut(&str) -> Option<&'a Value>) -> Option<Caller> {
    match field(CONTEXT_CALLER)?.as_str()? {
        "admin" => Some(Caller::Admin),
        "account" => field(CONTEXT_ACCOUNT)?
            .as_str()
            .and_then(AccountId::parse)
            .map(Caller::Account),
        _ => None,
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
