//! The local stack as the bench uses it: fresh tables and queues from `template.yaml` per phase,
//! and SDK clients that count the calls they make.

use aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sqs::config::{ConfigBag, Intercept, RuntimeComponents};
use devstack::provision::{Clients, Options, Stack, provision};
use devstack::template::Template;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Counts the requests an SDK client sends, by operation (`X-Amz-Target`, which both the
/// DynamoDB and the SQS JSON protocol carry), retries included.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl CallCounter {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[must_use]
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    pub fn reset(&self) {
        self.lock().clear();
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "bench-call-counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or("unknown.unknown");
        // `DynamoDB_20120810.Query`, `AmazonSQS.SendMessageBatch`
        let service = if target.starts_with("DynamoDB") {
            "dynamodb"
        } else if target.starts_with("AmazonSQS") {
            "sqs"
        } else {
            "other"
        };
        let operation = target.rsplit('.').next().unwrap_or(target);
        *self
            .lock()
            .entry(format!("{service}:{operation}"))
            .or_default() += 1;
        Ok(())
    }
}

/// `clients` with DynamoDB and SQS calls counted by `counter` (streams left as they are).
#[must_use]
pub fn counted(clients: &Clients, counter: &CallCounter) -> Clients {
    Clients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(
            clients
                .dynamodb
                .config()
                .to_builder()
                .interceptor(counter.clone())
                .build(),
        ),
        streams: clients.streams.clone(),
        sqs: aws_sdk_sqs::Client::from_conf(
            clients
                .sqs
                .config()
                .to_builder()
                .interceptor(counter.clone())
                .build(),
        ),
        region: clients.region.clone(),
    }
}

/// Every table and queue of `template.yaml` under a prefix of this phase's own.
///
/// # Errors
/// The local stack is not reachable or the template cannot be provisioned.
pub async fn fresh(phase: &str, parameters: &[(&str, &str)]) -> Result<(Clients, Stack), String> {
    if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_err()
        || std::env::var("AWS_ENDPOINT_URL_SQS").is_err()
    {
        return Err(
            "the local stack is not exported (run make bench, or export .local/run/NAME/stack.env)"
                .into(),
        );
    }
    let template =
        Template::load(std::path::Path::new("template.yaml")).map_err(|e| e.to_string())?;
    let clients = Clients::from_env().await;
    let options = Options {
        prefix: format!("bench-{phase}-{}-", std::process::id()),
        parameters: parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    };
    let stack = provision(&template, &clients, &options)
        .await
        .map_err(|e| e.to_string())?;
    Ok((clients, stack))
}

/// The URL of one of the stack's queues.
///
/// # Errors
/// The template defines no such queue.
pub fn queue_url(stack: &Stack, id: &str) -> Result<String, String> {
    stack
        .queue(id)
        .map(|q| q.url.clone())
        .ok_or_else(|| format!("the template defines no {id}"))
}
