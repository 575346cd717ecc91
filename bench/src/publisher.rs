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
