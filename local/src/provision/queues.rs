//! A `AWS::SQS::Queue` of the template, created on the SQS emulator with its attributes.

use super::clients::Clients;
use super::error::{ProvisionError, aws_error, definition};
use crate::resolve::Context;
use crate::template::scalar_string;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The `AWS::SQS::Queue` properties that are queue attributes, with their attribute names.
/// `SqsManagedSseEnabled` and `KmsMasterKeyId` (encryption at rest) only mean something on AWS.
/// A created queue.
#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub name: String,
    pub url: String,
    pub arn: String,
}

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

pub(super) async fn create_queue(
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
