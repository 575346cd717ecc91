//! The local stack as the bench uses it: fresh tables and queues from `template.yaml` per phase,
//! and SDK clients that count the calls they make.

use aws_sdk_sqs::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_sqs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use devstack::provision::{Clients, Options, Stack, provision};
use devstack::template::Template;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What the counter saw.
#[derive(Debug, Clone, Default)]
struct Counts {
    calls: BTreeMap<String, u64>,
    capacity: BTreeMap<String, f64>,
    /// Items written in `TransactWriteItems` calls.
    transact_items: u64,
}

/// Counts the requests an SDK client sends, by operation (`X-Amz-Target`, which both the
/// DynamoDB and the SQS JSON protocol carry), retries included; and the capacity units DynamoDB
/// reports each data operation consumed, its tables' and their indexes' (it asks for them with
/// `ReturnConsumedCapacity: INDEXES`, which changes nothing else about the call).
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<Counts>>);

/// The DynamoDB operations that report consumed capacity.
const DATA_OPERATIONS: &[&str] = &[
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
];

/// The DynamoDB data operation of the call in flight, with the least it can be billed: DynamoDB
/// Local leaves keys a `BatchGetItem` did not find out of its figure, AWS charges a read for
/// each (0.5 unit eventually consistent, 1 strongly).
#[derive(Debug, Clone)]
struct InFlight {
    operation: String,
    floor: f64,
}

impl Storable for InFlight {
    type Storer = StoreReplace<Self>;
}

impl CallCounter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Calls by `service:Operation`.
    #[must_use]
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().calls.clone()
    }

    /// Capacity units consumed, by `dynamodb:Operation`, as DynamoDB reported them.
    #[must_use]
    pub fn capacity(&self) -> BTreeMap<String, f64> {
        self.lock().capacity.clone()
    }

    /// Items written in transactions (AWS bills each twice per KB; DynamoDB Local's figure for
    /// a transaction is not that).
    #[must_use]
    pub fn transact_items(&self) -> u64 {
        self.lock().transact_items
    }

    pub fn reset(&self) {
        let mut counts = self.lock();
        counts.calls.clear();
        counts.capacity.clear();
        counts.transact_items = 0;
    }
}

/// (service, operation) of an `X-Amz-Target` header value.
fn target_of(target: Option<&str>) -> (&'static str, String) {
    let target = target.unwrap_or("unknown.unknown");
    // `DynamoDB_20120810.Query`, `AmazonSQS.SendMessageBatch`
    let service = if target.starts_with("DynamoDB") {
        "dynamodb"
    } else if target.starts_with("AmazonSQS") {
        "sqs"
    } else {
        "other"
    };
    (
        service,
        target.rsplit('.').next().unwrap_or(target).to_owned(),
    )
}

/// The least read units a `BatchGetItem` request is billed on AWS.
fn batch_get_floor(request: &Value) -> f64 {
    request["RequestItems"]
        .as_object()
        .map(|tables| {
            tables
                .values()
                .map(|table| {
                    let per_key = if table["ConsistentRead"] == Value::Bool(true) {
                        1.0
                    } else {
                        0.5
                    };
                    #[allow(clippy::cast_precision_loss)]
                    let keys = table["Keys"].as_array().map_or(0, Vec::len) as f64;
                    keys * per_key
                })
                .sum()
        })
        .unwrap_or(0.0)
}

/// The units of one table's `ConsumedCapacity` (asked with `INDEXES`): its table's and every
/// index's, or the total where no breakdown is given.
fn table_units(consumed: &Value) -> f64 {
    let units = |v: &Value| v["CapacityUnits"].as_f64().unwrap_or(0.0);
    let indexes = |name: &str| {
        consumed[name]
            .as_object()
            .map_or(0.0, |indexes| indexes.values().map(units).sum())
    };
    if consumed["Table"].is_object() {
        units(&consumed["Table"])
            + indexes("GlobalSecondaryIndexes")
            + indexes("LocalSecondaryIndexes")
    } else {
        units(consumed)
    }
}

/// The units a response's `ConsumedCapacity` (one object or a list) reports, indexes included.
fn consumed(response: &Value) -> f64 {
    match &response["ConsumedCapacity"] {
        Value::Array(tables) => tables.iter().map(table_units).sum(),
        table @ Value::Object(_) => table_units(table),
        _ => 0.0,
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "bench-call-counter"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        let request = context.request_mut();
        let (service, operation) = target_of(request.headers().get("x-amz-target"));
        if service != "dynamodb" || !DATA_OPERATIONS.contains(&operation.as_str()) {
            return Ok(());
        }
        let Some(mut body) = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        else {
            return Ok(());
        };
        if operation == "TransactWriteItems" {
            let items = body["TransactItems"].as_array().map_or(0, Vec::len);
            self.lock().transact_items += u64::try_from(items).unwrap_or(0);
        }
        let floor = if operation == "BatchGetItem" {
            batch_get_floor(&body)
        } else {
            0.0
        };
        body["ReturnConsumedCapacity"] = Value::String("INDEXES".into());
        let bytes = serde_json::to_vec(&body)?;
        request
            .headers_mut()
            .insert("content-length", bytes.len().to_string());
        *request.body_mut() = SdkBody::from(bytes);
        cfg.interceptor_state().store_put(InFlight {
            operation: format!("{service}:{operation}"),
            floor,
        });
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        let (service, operation) = target_of(context.request().headers().get("x-amz-target"));
        *self
            .lock()
            .calls
            .entry(format!("{service}:{operation}"))
            .or_default() += 1;
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        let Some(in_flight) = cfg.load::<InFlight>() else {
            return Ok(());
        };
        let units = context
            .response()
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .map_or(0.0, |response| consumed(&response));
        *self
            .lock()
            .capacity
            .entry(in_flight.operation.clone())
            .or_default() += units.max(in_flight.floor);
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
        secrets: clients.secrets.clone(),
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
