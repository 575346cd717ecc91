//! Creates, on DynamoDB Local and the SQS emulator, the tables and queues `template.yaml`
//! declares, with the same key schemas, indexes, streams, TTL and queue attributes, and works out
//! the environment each function gets once deployed.
//!
//! Physical names are `<prefix><LogicalId>`, so several stacks (a `make dev` one, the test
//! suite's, one per test) share one emulator without seeing each other.

use crate::resolve::{Context, ResolveError};
use crate::template::{FunctionDef, Template, TemplateError, scalar_string};
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{resource}: {source}")]
    Resolve {
        resource: String,
        source: ResolveError,
    },
    #[error("{resource}: {message}")]
    Definition { resource: String, message: String },
    #[error("{resource}: {operation} failed: {message}")]
    Aws {
        resource: String,
        operation: &'static str,
        message: String,
    },
}

/// The SDK clients provisioning uses (pointed at the local emulators by the standard
/// `AWS_ENDPOINT_URL_*` variables).
#[derive(Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub region: String,
}

impl Clients {
    /// Builds the clients from the environment.
    pub async fn from_env() -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_config(&config)
    }

    #[must_use]
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            region: config
                .region()
                .map_or_else(|| "us-east-1".to_owned(), ToString::to_string),
        }
    }
}

/// A created table.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub arn: String,
    pub stream_arn: Option<String>,
}

/// A created queue.
#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    pub arn: String,
}

/// Everything provisioning created, and the context that resolves the template against it.
#[derive(Debug, Clone)]
pub struct Stack {
    pub template: Template,
    pub prefix: String,
    pub tables: BTreeMap<String, TableInfo>,
    pub queues: BTreeMap<String, QueueInfo>,
    pub context: Context,
}

/// What to provision.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Prepended to every logical id to form physical names.
    pub prefix: String,
    /// Parameter values that replace the template's defaults (`DeliveryAttempts=3`); under a
    /// secret's logical id, the value of that secret instead of a generated one
    /// (`AdminApiKeySecret=…`).
    pub parameters: BTreeMap<String, String>,
}

/// Creates (or finds, when they already exist) every table and queue of the template.
///
/// # Errors
/// A definition cannot be resolved or translated, or an emulator refuses a call.
pub async fn provision(
    template: &Template,
    clients: &Clients,
    options: &Options,
) -> Result<Stack, ProvisionError> {
    let mut context = Context::default();
    for (name, value) in template
        .parameter_defaults()
        .into_iter()
        .chain(options.parameters.clone())
    {
        context.set_ref(name, value);
    }
    context.set_ref("AWS::Region", clients.region.clone());
    context.set_ref("AWS::AccountId", "000000000000");
    context.set_ref("AWS::Partition", "aws");
    context.set_ref("AWS::URLSuffix", "amazonaws.com");
    context.set_ref(
        "AWS::StackName",
        options.prefix.trim_end_matches(['-', '_']).to_owned(),
    );
    for (id, resource) in template.resources() {
        match resource["Type"].as_str().unwrap_or_default() {
            "AWS::Serverless::HttpApi" => context.set_ref(id, "local"),
            "AWS::Serverless::Function" => {
                if let Some(binary) = resource["Metadata"]["BuildProperties"]["Binary"].as_str() {
                    context.set_ref(id, binary);
                }
            }
            _ => {}
        }
    }

    let mut stack = Stack {
        template: template.clone(),
        prefix: options.prefix.clone(),
        tables: BTreeMap::new(),
        queues: BTreeMap::new(),
        context,
    };
    for (id, properties) in template.resources_of_type("AWS::DynamoDB::Table") {
        let info =
            create_table(clients, &format!("{}{id}", options.prefix), id, properties).await?;
        stack.context.set_ref(id, info.name.clone());
        stack.context.set_attribute(id, "Arn", info.arn.clone());
        if let Some(stream) = &info.stream_arn {
            stack.context.set_attribute(id, "StreamArn", stream.clone());
        }
        stack.tables.insert(id.to_owned(), info);
    }

    for (id, properties) in template.resources_of_type("AWS::SecretsManager::Secret") {
        let arn = crate::secrets::create_secret(
            clients,
            &format!("{}{id}", options.prefix),
            id,
            properties,
            options.parameters.get(id).map(String::as_str),
        )
        .await?;
        stack.context.set_ref(id, arn);
    }

    // Queues without a redrive policy first, so the policies can name their dead-letter queues.
    let mut queues: Vec<_> = template.resources_of_type("AWS::SQS::Queue").collect();
    queues.sort_by_key(|(_, properties)| properties.contains_key("RedrivePolicy"));
    for (id, properties) in queues {
        let info = create_queue(
            clients,
            &stack.context,
            &format!("{}{id}", options.prefix),
            id,
            properties,
        )
        .await?;
        stack.context.set_ref(id, info.url.clone());
        stack.context.set_attribute(id, "Arn", info.arn.clone());
        stack
            .context
            .set_attribute(id, "QueueName", info.name.clone());
        stack
            .context
            .set_attribute(id, "QueueUrl", info.url.clone());
        stack.queues.insert(id.to_owned(), info);
    }
    Ok(stack)
}

impl Stack {
    /// The environment variables `template.yaml` gives `function`, resolved locally.
    ///
    /// # Errors
    /// A variable refers to something that was not created (or a parameter with no value).
    pub fn function_environment(
        &self,
        function: &FunctionDef,
    ) -> Result<BTreeMap<String, String>, ProvisionError> {
        function
            .environment
            .iter()
            .filter_map(|(name, value)| {
                if let Some(local) = local_endpoint(name) {
                    return local.map(|local| Ok((name.clone(), local)));
                }
                let resolved =
                    self.context
                        .resolve_string(value)
                        .map_err(|source| ProvisionError::Resolve {
                            resource: format!("{}.Environment.{name}", function.logical_id),
                            source,
                        });
                Some(resolved.map(|resolved| (name.clone(), resolved)))
            })
            .collect()
    }

    /// The union of every function's environment (they agree wherever they overlap), for tools
    /// like `cargo lambda watch` that take one environment for all functions.
    ///
    /// # Errors
    /// As [`Stack::function_environment`], or two functions disagree on a variable.
    pub fn combined_environment(&self) -> Result<BTreeMap<String, String>, ProvisionError> {
        let mut combined = BTreeMap::new();
        for function in self.template.functions()? {
            for (name, value) in self.function_environment(&function)? {
                if let Some(previous) = combined.get(&name)
                    && previous != &value
                {
                    return Err(ProvisionError::Definition {
                        resource: function.logical_id.clone(),
                        message: format!(
                            "{name} differs between functions; they cannot share one env file"
                        ),
                    });
                }
                combined.insert(name, value);
            }
        }
        Ok(combined)
    }

    /// The queue with this logical id.
    #[must_use]
    pub fn queue(&self, logical_id: &str) -> Option<&QueueInfo> {
        self.queues.get(logical_id)
    }

    /// The table with this logical id.
    #[must_use]
    pub fn table(&self, logical_id: &str) -> Option<&TableInfo> {
        self.tables.get(logical_id)
    }
}

/// What the local stack does with one of the variables `template.yaml` declares for
/// `sam local invoke` (empty when deployed): `Some(value)` to set instead of the template's,
/// `Some(None)` to leave it out; `None` for any other variable. The endpoints are this process's
/// own (the emulators'), and the SDK must not ignore them.
fn local_endpoint(name: &str) -> Option<Option<String>> {
    if !shared::aws::LOCAL_ENDPOINT_VARS.contains(&name) {
        return None;
    }
    if name == shared::aws::IGNORE_ENDPOINT_URLS {
        return Some(Some("false".into()));
    }
    Some(std::env::var(name).ok().filter(|v| !v.is_empty()))
}

pub(crate) fn definition(resource: &str, message: impl Into<String>) -> ProvisionError {
    ProvisionError::Definition {
        resource: resource.to_owned(),
        message: message.into(),
    }
}

pub(crate) fn aws_error(
    resource: &str,
    operation: &'static str,
    error: &impl std::error::Error,
) -> ProvisionError {
    ProvisionError::Aws {
        resource: resource.to_owned(),
        operation,
        message: shared::error::error_chain(error),
    }
}

fn str_field<'a>(id: &str, object: &'a Value, key: &str) -> Result<&'a str, ProvisionError> {
    object[key]
        .as_str()
        .ok_or_else(|| definition(id, format!("{key} missing or not a string")))
}

fn key_schema(id: &str, value: &Value) -> Result<Vec<ddb::KeySchemaElement>, ProvisionError> {
    value
        .as_array()
        .ok_or_else(|| definition(id, "KeySchema is not a list"))?
        .iter()
        .map(|element| {
            ddb::KeySchemaElement::builder()
                .attribute_name(str_field(id, element, "AttributeName")?)
                .key_type(ddb::KeyType::from(str_field(id, element, "KeyType")?))
                .build()
                .map_err(|e| definition(id, e.to_string()))
        })
        .collect()
}

fn projection(id: &str, value: &Value) -> Result<ddb::Projection, ProvisionError> {
    let mut builder = ddb::Projection::builder();
    if let Some(kind) = value["ProjectionType"].as_str() {
        builder = builder.projection_type(ddb::ProjectionType::from(kind));
    }
    for attribute in value["NonKeyAttributes"].as_array().into_iter().flatten() {
        let name = attribute
            .as_str()
            .ok_or_else(|| definition(id, "NonKeyAttributes entry is not a string"))?;
        builder = builder.non_key_attributes(name);
    }
    Ok(builder.build())
}

async fn create_table(
    clients: &Clients,
    name: &str,
    id: &str,
    properties: &Map<String, Value>,
) -> Result<TableInfo, ProvisionError> {
    let get = |key: &str| properties.get(key).unwrap_or(&Value::Null);
    let mut request = clients
        .dynamodb
        .create_table()
        .table_name(name)
        .set_key_schema(Some(key_schema(id, get("KeySchema"))?))
        .billing_mode(ddb::BillingMode::from(
            get("BillingMode").as_str().unwrap_or("PROVISIONED"),
        ));
    for attribute in get("AttributeDefinitions").as_array().into_iter().flatten() {
        request = request.attribute_definitions(
            ddb::AttributeDefinition::builder()
                .attribute_name(str_field(id, attribute, "AttributeName")?)
                .attribute_type(ddb::ScalarAttributeType::from(str_field(
                    id,
                    attribute,
                    "AttributeType",
                )?))
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    for index in get("GlobalSecondaryIndexes")
        .as_array()
        .into_iter()
        .flatten()
    {
        request = request.global_secondary_indexes(
            ddb::GlobalSecondaryIndex::builder()
                .index_name(str_field(id, index, "IndexName")?)
                .set_key_schema(Some(key_schema(id, &index["KeySchema"])?))
                .projection(projection(id, &index["Projection"])?)
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    for index in get("LocalSecondaryIndexes")
        .as_array()
        .into_iter()
        .flatten()
    {
        request = request.local_secondary_indexes(
            ddb::LocalSecondaryIndex::builder()
                .index_name(str_field(id, index, "IndexName")?)
                .set_key_schema(Some(key_schema(id, &index["KeySchema"])?))
                .projection(projection(id, &index["Projection"])?)
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    if let Some(view) = get("StreamSpecification")["StreamViewType"].as_str() {
        request = request.stream_specification(
            ddb::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(ddb::StreamViewType::from(view))
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    if request.get_billing_mode() == &Some(ddb::BillingMode::Provisioned) {
        request = request.provisioned_throughput(
            ddb::ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(error) => return Err(aws_error(id, "CreateTable", &error)),
    }

    let ttl = get("TimeToLiveSpecification");
    if ttl["Enabled"].as_bool() == Some(true) {
        let attribute = str_field(id, ttl, "AttributeName")?;
        let spec = ddb::TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(attribute)
            .build()
            .map_err(|e| definition(id, e.to_string()))?;
        // A second provisioning of the same table finds TTL already on: nothing to do.
        let current = clients
            .dynamodb
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| aws_error(id, "DescribeTimeToLive", &e))?;
        let on = current.time_to_live_description().is_some_and(|d| {
            d.attribute_name() == Some(attribute)
                && matches!(
                    d.time_to_live_status(),
                    Some(ddb::TimeToLiveStatus::Enabled | ddb::TimeToLiveStatus::Enabling)
                )
        });
        if !on {
            clients
                .dynamodb
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| aws_error(id, "UpdateTimeToLive", &e))?;
        }
    }

    let described = clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(|e| aws_error(id, "DescribeTable", &e))?;
    let table = described
        .table
        .ok_or_else(|| definition(id, "DescribeTable returned no table"))?;
    Ok(TableInfo {
        name: name.to_owned(),
        arn: table.table_arn.unwrap_or_default(),
        stream_arn: table.latest_stream_arn,
    })
}

/// The `AWS::SQS::Queue` properties that are queue attributes, with their attribute names.
/// `SqsManagedSseEnabled` and `KmsMasterKeyId` (encryption at rest) only mean something on AWS.
const QUEUE_ATTRIBUTES: &[(&str, &str)] = &[
    ("VisibilityTimeout", "VisibilityTimeout"),
    ("MessageRetentionPeriod", "MessageRetentionPeriod"),
    ("MaximumMessageSize", "MaximumMessageSize"),
    (
        "ReceiveMessageWaitTimeSeconds",
        "ReceiveMessageWaitTimeSeconds",
    ),
    ("DelaySeconds", "DelaySeconds"),
    ("FifoQueue", "FifoQueue"),
    ("ContentBasedDeduplication", "ContentBasedDeduplication"),
];

async fn create_queue(
    clients: &Clients,
    context: &Context,
    name: &str,
    id: &str,
    properties: &Map<String, Value>,
) -> Result<QueueInfo, ProvisionError> {
    let resolve_error = |source| ProvisionError::Resolve {
        resource: id.to_owned(),
        source,
    };
    let mut attributes: HashMap<QueueAttributeName, String> = HashMap::new();
    for (property, attribute) in QUEUE_ATTRIBUTES {
        if let Some(value) = properties.get(*property) {
            attributes.insert(
                QueueAttributeName::from(*attribute),
                context.resolve_string(value).map_err(resolve_error)?,
            );
        }
    }
    if let Some(policy) = properties.get("RedrivePolicy") {
        let mut policy = context.resolve(policy).map_err(resolve_error)?;
        // CloudFormation passes maxReceiveCount through as given; SQS wants a number.
        if let Some(count) = scalar_string(&policy["maxReceiveCount"]) {
            let count: u32 = count
                .parse()
                .map_err(|_| definition(id, format!("maxReceiveCount {count} is not a number")))?;
            policy["maxReceiveCount"] = Value::from(count);
        }
        attributes.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    let created = clients
        .sqs
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes))
        .send()
        .await
        .map_err(|e| aws_error(id, "CreateQueue", &e))?;
    let url = created
        .queue_url
        .ok_or_else(|| definition(id, "CreateQueue returned no URL"))?;
    let described = clients
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| aws_error(id, "GetQueueAttributes", &e))?;
    let arn = described
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| definition(id, "the queue has no QueueArn"))?;
    Ok(QueueInfo {
        name: name.to_owned(),
        url,
        arn,
    })
}
