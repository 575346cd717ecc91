//! `authorizer`: the HTTP API's Lambda authorizer (payload format 2.0, simple responses). API
//! Gateway calls it with the request's `Authorization` header, caches the answer per header value
//! (`ReauthorizeEvery` in `template.yaml`) and passes the context on to the API functions, which
//! trust it (`shared::auth`). A request without the header is refused by API Gateway (401)
//! before any function runs; a key that matches nothing gets `isAuthorized: false` (403).

use lambda_runtime::{Error, LambdaEvent};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shared::api::auth::{CONTEXT_CALLER, authenticate};
use shared::api::error::ApiError;
use shared::ports::AccountStore;
use std::collections::HashMap;

/// The environment variables this function needs (`template.yaml` must set each).
pub const ENVIRONMENT: &[&str] = shared::wiring::config::AuthorizerConfig::VARS;

/// The parts of API Gateway's authorizer event (payload format 2.0) this function reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    /// The identity source's values: here, the `Authorization` header.
    #[serde(default)]
    pub identity_source: Option<Vec<String>>,
    /// Header names are lower case in payload format 2.0.
    #[serde(default)]
    pub headers: HashMap<String, String>,
}

impl AuthorizerRequest {
    fn authorization(&self) -> Option<&str> {
        self.identity_source
            .as_ref()
            .and_then(|values| values.first())
            .or_else(|| self.headers.get("authorization"))
            .map(String::as_str)
    }
}

/// A simple response: allowed or not, and the context the API functions read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub is_authorized: bool,
    pub context: Map<String, Value>,
}

/// Decides one request.
///
/// # Errors
/// The store failed (API Gateway then answers 500, and caches nothing).
pub async fn handle(
    store: &impl AccountStore,
    admin_key: &str,
    event: LambdaEvent<AuthorizerRequest>,
) -> Result<AuthorizerResponse, Error> {
    let request = event.payload;
    match authenticate(store, Some(admin_key), request.authorization()).await {
        Ok(caller) => {
            let context = shared::api::auth::to_context(&caller);
            let kind = context.get(CONTEXT_CALLER).and_then(Value::as_str);
            tracing::info!(caller = kind, "authorized");
            Ok(AuthorizerResponse {
                is_authorized: true,
                context,
            })
        }
        Err(ApiError::Unauthorized) => {
            tracing::info!("denied");
            Ok(AuthorizerResponse {
                is_authorized: false,
                context: Map::new(),
            })
        }
        Err(error) => {
            tracing::error!(%error, "cannot authorize");
            Err(Box::new(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::adapters::memory::MemoryStore;
    use shared::domain::secrets;
    use shared::model::Account;

    const ADMIN: &str = "admin-key-admin-key-admin-key-admin-key";

    async fn store_with_account(key: &str) -> MemoryStore {
        let store = MemoryStore::new();
        let account = Account {
            id: shared::model::AccountId::from_parts(1_700_000_000_000, 1),
            name: "one".into(),
            created_at: shared::model::now(),
            disabled: false,
        };
        let key = shared::model::ApiKey {
            id: shared::model::ApiKeyId::from_parts(1_700_000_000_000, 1),
            account_id: account.id,
            name: "one".into(),
            prefix: key.chars().take(12).collect(),
            key_hash: secrets::api_key_hash(key),
            created_at: account.created_at,
            last_used_at: None,
        };
        store.create_account(&account, &key).await.unwrap();
        store
    }

    async fn decide(store: &MemoryStore, event: Value) -> AuthorizerResponse {
        let request = serde_json::from_value(event).unwrap();
        let event = LambdaEvent::new(request, lambda_runtime::Context::default());
        handle(store, ADMIN, event).await.unwrap()
    }

    #[tokio::test]
    async fn an_account_key_is_vouched_for_with_its_account() {
        let store = store_with_account("sk_account_key").await;
        let answer = decide(
            &store,
            json!({"version": "2.0", "type": "REQUEST",
                   "identitySource": ["Bearer sk_account_key"],
                   "headers": {"authorization": "Bearer sk_account_key"}}),
        )
        .await;
        assert!(answer.is_authorized);
        assert_eq!(
            Value::Object(answer.context),
            json!({
                "caller": "account",
                "account_id": shared::model::AccountId::from_parts(1_700_000_000_000, 1).to_string()
            })
        );
    }

    #[tokio::test]
    async fn the_admin_key_is_vouched_for_as_admin() {
        let store = MemoryStore::new();
        let answer = decide(
            &store,
            json!({"identitySource": [format!("Bearer {ADMIN}")]}),
        )
        .await;
        assert!(answer.is_authorized);
        assert_eq!(Value::Object(answer.context), json!({"caller": "admin"}));
    }

    #[tokio::test]
    async fn unknown_or_malformed_keys_are_denied_with_no_context() {
        let store = store_with_account("sk_account_key").await;
        for event in [
            json!({"identitySource": ["Bearer sk_other"]}),
            json!({"identitySource": ["Basic sk_account_key"]}),
            json!({"identitySource": [format!("Bearer {ADMIN}x")]}),
            json!({"headers": {}}),
        ] {
            let answer = decide(&store, event.clone()).await;
            assert!(!answer.is_authorized, "{event}");
            assert!(answer.context.is_empty());
        }
    }

    #[tokio::test]
    async fn the_header_is_read_when_there_is_no_identity_source() {
        let store = store_with_account("sk_account_key").await;
        let answer = decide(
            &store,
            json!({"headers": {"authorization": "Bearer sk_account_key"}}),
        )
        .await;
        assert!(answer.is_authorized);
    }
}
