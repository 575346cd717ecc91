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
    pub fn new(clients: &Clients, stack: &Stack, account: AccountId) -> Result<Self, String> {
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
        request["requestContext"]["authorizer"]["lambda"]["account_id"] =
            Value::String(account.to_string());
        Ok(Self { function, request })
    }

    /// Publishes event `n` (the payload `crate::core::event` carries).
    ///
    /// # Errors
    /// The function did not answer 202.
    pub async fn publish(&self, n: usize) -> Result<(), String> {
        let mut request = self.request.clone();
        let body = json!({
            "type": "bench.delivered",
            "payload": crate::core::event(shared::model::EventId::new(), AccountId::from_parts(0, 0), n).data,
        });
        request["body"] = Value::String(body.to_string());
        let answer = self
            .function
            .invoke("subscriptions", request)
            .await
            .map_err(|e| e.to_string())?;
        if answer["statusCode"] == 202 {
            Ok(())
        } else {
            Err(format!("POST /api/v1/events answered {answer}"))
        }
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
        let mut request: Value = serde_json::from_str(
            &std::fs::read_to_string(sample).map_err(|e| format!("{sample}: {e}"))?,
        )
        .map_err(|e| format!("{sample}: {e}"))?;
        request["requestContext"]["authorizer"]["lambda"]["account_id"] =
            Value::String(account.to_string());
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
