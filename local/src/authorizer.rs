//! The HTTP API's Lambda authorizer as API Gateway runs it (payload format 2.0, simple
//! responses): a request without its identity source is refused with 401 before any function
//! runs; otherwise the authorizer function is invoked (or its cached answer, keyed by the
//! identity values, is used for `ReauthorizeEvery` seconds); `isAuthorized: false` is a 403, and
//! an allowed request carries the authorizer's context to the route's function in
//! `requestContext.authorizer.lambda`.

use crate::invoke::{InvokeError, Invoker};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Cached answers kept at most; the cache is emptied when it would grow past this.
const MAX_CACHED: usize = 10_000;

/// A Lambda authorizer of the template, as a route uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerDef {
    /// The authorizer function's cargo binary.
    pub binary: String,
    /// `Identity.Headers`, lower case: each must be present and non-empty.
    pub identity_headers: Vec<String>,
    /// `Identity.ReauthorizeEvery`: how long an answer is cached; 0 caches nothing.
    pub ttl: Duration,
}

/// What API Gateway does with a request on an authorized route.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Pass it on with this context.
    Allow(Map<String, Value>),
    /// No identity source: 401, no function invoked.
    Unauthorized,
    /// The authorizer said no: 403.
    Forbidden,
    /// The authorizer failed or answered nonsense: 500.
    Failed(String),
}

/// An authorizer's binary and the identity values it was asked about.
type CacheKey = (String, Vec<String>);
/// Until when an answer holds, and the answer: the context if allowed.
type CachedAnswer = (Instant, Option<Map<String, Value>>);

/// The authorizers' answer cache, shared by every request of a gateway.
#[derive(Default)]
pub struct Authorizers {
    cache: Mutex<HashMap<CacheKey, CachedAnswer>>,
}

impl Authorizers {
    /// Decides `request_event` (the payload-2.0 event the route's function would get) with
    /// `authorizer`.
    pub async fn decide<I: Invoker>(
        &self,
        invoker: &I,
        authorizer: &AuthorizerDef,
        request_event: &Value,
    ) -> Decision {
        let mut identity = Vec::new();
        for name in &authorizer.identity_headers {
            match request_event["headers"][name.as_str()].as_str() {
                Some(value) if !value.is_empty() => identity.push(value.to_owned()),
                _ => return Decision::Unauthorized,
            }
        }
        let key = (authorizer.binary.clone(), identity);
        if let Some(cached) = self.cached(&key, authorizer.ttl) {
            return allow_or_forbid(cached);
        }
        let event = authorizer_event(request_event, &key.1);
        let answer = match invoker.invoke(&authorizer.binary, event).await {
            Ok(answer) => answer,
            Err(
                InvokeError::Function { message, .. } | InvokeError::Unreachable { message, .. },
            ) => {
                return Decision::Failed(message);
            }
        };
        let Some(authorized) = answer["isAuthorized"].as_bool() else {
            return Decision::Failed("the authorizer's answer has no boolean isAuthorized".into());
        };
        let context =
            authorized.then(|| answer["context"].as_object().cloned().unwrap_or_default());
        if !authorizer.ttl.is_zero()
            && let Ok(mut cache) = self.cache.lock()
        {
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, (Instant::now() + authorizer.ttl, context.clone()));
        }
        allow_or_forbid(context)
    }

    fn cached(&self, key: &CacheKey, ttl: Duration) -> Option<Option<Map<String, Value>>> {
        if ttl.is_zero() {
            return None;
        }
        let cache = self.cache.lock().ok()?;
        let (expires, context) = cache.get(key)?;
        (Instant::now() < *expires).then(|| context.clone())
    }
}

fn allow_or_forbid(context: Option<Map<String, Value>>) -> Decision {
    context.map_or(Decision::Forbidden, Decision::Allow)
}

/// The authorizer's event (payload format 2.0, `REQUEST`) for a request: the request's event
/// without its body, with the route's ARN and the identity source's values.
#[must_use]
pub fn authorizer_event(request_event: &Value, identity: &[String]) -> Value {
    let mut event = request_event.clone();
    if let Some(fields) = event.as_object_mut() {
        fields.remove("body");
        fields.remove("isBase64Encoded");
    }
    let method = request_event["requestContext"]["http"]["method"]
        .as_str()
        .unwrap_or_default();
    let path = request_event["rawPath"].as_str().unwrap_or_default();
    event["type"] = json!("REQUEST");
    event["routeArn"] = json!(format!(
        "arn:aws:execute-api:us-east-1:000000000000:local/$default/{method}{path}"
    ));
    event["identitySource"] = json!(identity);
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An authorizer that allows exactly `Bearer good` and counts its invocations.
    struct Counting(AtomicUsize);

    impl Invoker for Counting {
        async fn invoke(&self, _function: &str, payload: Value) -> Result<Value, InvokeError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            assert!(
                payload.get("body").is_none(),
                "no body goes to an authorizer"
            );
            assert_eq!(payload["type"], "REQUEST");
            let allowed = payload["identitySource"] == json!(["Bearer good"]);
            Ok(json!({"isAuthorized": allowed, "context": {"caller": "account"}}))
        }
    }

    fn def(ttl: u64) -> AuthorizerDef {
        AuthorizerDef {
            binary: "authorizer".into(),
            identity_headers: vec!["authorization".into()],
            ttl: Duration::from_secs(ttl),
        }
    }

    fn request(authorization: Option<&str>) -> Value {
        let mut headers = Map::new();
        if let Some(value) = authorization {
            headers.insert("authorization".into(), value.into());
        }
        json!({"version": "2.0", "rawPath": "/x", "headers": headers, "body": "{}",
               "requestContext": {"http": {"method": "GET"}}})
    }

    #[tokio::test]
    async fn decisions_follow_api_gateway() {
        let invoker = Counting(AtomicUsize::new(0));
        let authorizers = Authorizers::default();
        let decide = |event: Value, ttl| {
            let (authorizers, invoker) = (&authorizers, &invoker);
            async move { authorizers.decide(invoker, &def(ttl), &event).await }
        };
        assert_eq!(decide(request(None), 300).await, Decision::Unauthorized);
        assert_eq!(decide(request(Some("")), 300).await, Decision::Unauthorized);
        assert_eq!(
            invoker.0.load(Ordering::SeqCst),
            0,
            "no identity, no invocation"
        );
        let allowed = Decision::Allow(
            json!({"caller": "account"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        assert_eq!(decide(request(Some("Bearer good")), 300).await, allowed);
        assert_eq!(
            decide(request(Some("Bearer bad")), 300).await,
            Decision::Forbidden
        );
        assert_eq!(decide(request(Some("Bearer good")), 300).await, allowed);
        assert_eq!(
            decide(request(Some("Bearer bad")), 300).await,
            Decision::Forbidden
        );
        assert_eq!(
            invoker.0.load(Ordering::SeqCst),
            2,
            "both answers were cached"
        );
        assert_eq!(decide(request(Some("Bearer good")), 0).await, allowed);
        assert_eq!(
            invoker.0.load(Ordering::SeqCst),
            3,
            "a zero TTL caches nothing"
        );
    }

    #[tokio::test]
    async fn a_malformed_answer_fails_the_request() {
        struct Nonsense;
        impl Invoker for Nonsense {
            async fn invoke(&self, _: &str, _: Value) -> Result<Value, InvokeError> {
                Ok(json!({"allowed": true}))
            }
        }
        let decision = Authorizers::default()
            .decide(&Nonsense, &def(300), &request(Some("Bearer good")))
            .await;
        assert!(matches!(decision, Decision::Failed(_)), "{decision:?}");
    }
}
