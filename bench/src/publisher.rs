//! Events written as API Gateway has them written: a `POST /api/v1/events` request (the sample
//! `events/subscriptions/post-event.json`, its caller vouched by the authorizer, without an
//! `Idempotency-Key`) handed to the `subscriptions` function's handler in this process, so the
//! API's own DynamoDB calls and units are counted with the rest.

use devstack::invoke::{InProcess, Invoker as _};
use devstack::provision::{Clients, Stack};
use serde_json::{Value, json};
use shared::adapters::resolver::SystemResolver;
use shared::adapters::sqs::SqsQueue;
use shared::api::{AdminKey, Api};
use shared::model::AccountId;
use std::sync::Arc;

/// Creates `account` with a key of its own (the functions look every account key up, as on AWS)
/// and returns the key. Uncounted: it is set-up, not the API's work per event.
///
/// # Errors
/// The store failed.
pub async fn bench_key(
    clients: &Clients,
    stack: &Stack,
    account: AccountId,
) -> Result<String, String> {
    use shared::ports::AccountStore as _;
    let store = devstack::samples::store(clients, stack)?;
    let key = shared::domain::secrets::new_api_key();
    let made = shared::model::Account {
        id: account,
        name: "bench".into(),
        created_at: shared::model::now(),
        disabled: false,
    };
    let stored = shared::model::ApiKey {
        id: shared::model::ApiKeyId::new(),
        account_id: account,
        name: "bench".into(),
        prefix: key.chars().take(12).collect(),
        key_hash: shared::domain::secrets::api_key_hash(&key),
        created_at: made.created_at,
        last_used_at: None,
    };
    match store.create_account(&made, &stored).await {
        // The account exists from an earlier phase: add this key to it.
        Err(shared::ports::StoreError::Conflict) => store.create_api_key(&stored).await,
        other => other,
    }
    .map_err(|e| format!("creating the bench account's key: {e}"))?;
    Ok(key)
}

/// The request `sample` as the authorizer passes it on for `account`, carrying `key`.
fn as_account(mut request: Value, account: AccountId, key: &str) -> Value {
    request["requestContext"]["authorizer"]["lambda"]["account_id"] =
        Value::String(account.to_string());
    request["headers"]["authorization"] = Value::String(format!("Bearer {key}"));
    request
}

/// The `subscriptions` function, in process, and the request it is sent.
pub struct Publisher {
    function: InProcess,
    request: Value,
}

impl Publisher {
    /// The function over `clients` (count them to count the API's calls), publishing as
    /// `account`.
    ///
    /// # Errors
    /// The sample request cannot be read, or the stack has no delivery queue.
    pub fn new(
        clients: &Clients,
        stack: &Stack,
        account: AccountId,
        key: &str,
    ) -> Result<Self, String> {
        let store = devstack::samples::store(clients, stack)?;
        let queue = SqsQueue::new(
            clients.sqs.clone(),
            crate::stack::queue_url(stack, "DeliveryQueue")?,
        );
        let api = Arc::new(Api {
            store,
            queue: Some(queue),
            resolver: SystemResolver,
            targets: crate::core::loopback()?,
            admin_key: AdminKey::None,
            key_uses: shared::domain::throttle::Throttle::new(shared::api::KEY_USE_EVERY),
        });
        let function = InProcess::new().with_http_handler("subscriptions", move |request| {
            let api = Arc::clone(&api);
            async move { subscriptions::handle(&api, request).await }
        });
        let path = "events/subscriptions/post-event.json";
        let mut request: Value = serde_json::from_str(
            &std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        )
        .map_err(|e| format!("{path}: {e}"))?;
        if let Some(headers) = request["headers"].as_object_mut() {
            headers.remove("idempotency-key");
        }
        let request = as_account(request, account, key);
        Ok(Self { function, request })
    }

    /// Publishes event `n` (the payload `crate::core::event` carries).
    ///
    /// # Errors
    /// The function did not answer 202.
    pub async fn publish(&self, n: usize) -> Result<(), String> {
        self.publish_keyed(n, None).await.map(|_| ())
    }

    /// As [`Publisher::publish`], with an `Idempotency-Key` when given (a retry answers the same
    /// event); the event's id.
    ///
    /// # Errors
    /// The function did not answer 202.
    pub async fn publish_keyed(&self, n: usize, key: Option<&str>) -> Result<String, String> {
        let mut request = self.request.clone();
        let body = json!({
            "type": "bench.delivered",
            "payload": crate::core::event(shared::model::EventId::new(), AccountId::from_parts(0, 0), n).data,
        });
        request["body"] = Value::String(body.to_string());
        if let (Some(key), Some(headers)) = (key, request["headers"].as_object_mut()) {
            headers.insert("idempotency-key".into(), Value::String(key.to_owned()));
        }
        let answer = self
            .function
            .invoke("subscriptions", request)
            .await
            .map_err(|e| e.to_string())?;
        if answer["statusCode"] != 202 {
            return Err(format!("POST /api/v1/events answered {answer}"));
        }
        answer["body"]
            .as_str()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .and_then(|b| b["id"].as_str().map(str::to_owned))
            .ok_or_else(|| format!("POST /api/v1/events answered no id: {answer}"))
    }
}

/// The write units the requests that emit resource events consume, by event type, as AWS bills
/// them (each item of a transaction twice): a new user (`user.created`: the user, its username and
/// the event in one transaction) and a like (`photo.liked`: the count and the event), each from
/// its sample request, as `account`.
///
/// # Errors
/// A sample cannot be read or its request did not succeed.
pub async fn resource_event_units(
    clients: &Clients,
    stack: &Stack,
    account: AccountId,
    key: &str,
) -> Result<std::collections::BTreeMap<String, f64>, String> {
    let counter = crate::stack::CallCounter::default();
    let counted = crate::stack::counted(clients, &counter);
    let api = Arc::new(Api {
        store: devstack::samples::store(&counted, stack)?,
        queue: None::<SqsQueue>,
        resolver: SystemResolver,
        targets: crate::core::loopback()?,
        admin_key: AdminKey::None,
        key_uses: shared::domain::throttle::Throttle::new(shared::api::KEY_USE_EVERY),
    });
    let function = InProcess::new().with_http_handler("resources", move |request| {
        let api = Arc::clone(&api);
        async move { resources::handle(&api, request).await }
    });
    let mut units = std::collections::BTreeMap::new();
    for (event_type, sample) in [
        ("user.created", "events/resources/post-users.json"),
        ("photo.liked", "events/resources/post-photo-like.json"),
    ] {
        let request: Value = serde_json::from_str(
            &std::fs::read_to_string(sample).map_err(|e| format!("{sample}: {e}"))?,
        )
        .map_err(|e| format!("{sample}: {e}"))?;
        let request = as_account(request, account, key);
        counter.reset();
        let answer = function
            .invoke("resources", request)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer["statusCode"].as_u64().unwrap_or(0);
        if !(200..300).contains(&status) {
            return Err(format!("{sample} answered {answer}"));
        }
        // Plain writes as DynamoDB Local reported them; a transaction's items at 2 units each
        // (each of these is under 1 KB), as AWS bills them.
        #[allow(clippy::cast_precision_loss)]
        let written: f64 = counter
            .capacity()
            .iter()
            .map(|(operation, units)| match operation.as_str() {
                "dynamodb:PutItem"
                | "dynamodb:UpdateItem"
                | "dynamodb:DeleteItem"
                | "dynamodb:BatchWriteItem" => *units,
                _ => 0.0,
            })
            .sum::<f64>()
            + 2.0 * counter.transact_items() as f64;
        units.insert(event_type.to_owned(), written);
    }
    Ok(units)
}
