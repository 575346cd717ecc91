//! Creates, on DynamoDB Local and the SQS emulator, the tables and queues `template.yaml`
//! declares, with the same key schemas, indexes, streams, TTL and queue attributes, and works out
//! the environment each function gets once deployed.
//!
//! Physical names are `<prefix><LogicalId>`, so several stacks (a `make dev` one, the test
//! suite's, one per test) share one emulator without seeing each other.

mod clients;
mod error;
mod queues;
mod secrets;
mod tables;

pub use clients::Clients;
pub use error::{ProvisionError, aws_error, definition};
pub use queues::QueueInfo;
pub use tables::TableInfo;

use crate::resolve::Context;
use crate::template::{FunctionDef, Template};
use queues::create_queue;
use std::collections::BTreeMap;
use tables::create_table;

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
        let arn = secrets::create_secret(
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
    if !shared::wiring::aws::LOCAL_ENDPOINT_VARS.contains(&name) {
        return None;
    }
    if name == shared::wiring::aws::IGNORE_ENDPOINT_URLS {
        return Some(Some("false".into()));
    }
    Some(std::env::var(name).ok().filter(|v| !v.is_empty()))
}
