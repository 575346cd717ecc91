//! What can go wrong provisioning, and how an AWS error or a bad definition is described.

use crate::resolve::ResolveError;
use crate::template::TemplateError;

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

pub fn definition(resource: &str, message: impl Into<String>) -> ProvisionError {
    ProvisionError::Definition {
        resource: resource.to_owned(),
        message: message.into(),
    }
}

pub fn aws_error(
    resource: &str,
    operation: &'static str,
    error: &impl std::error::Error,
) -> ProvisionError {
    ProvisionError::Aws {
        resource: resource.to_owned(),
        operation,
        message: shared::adapters::error_chain(error),
    }
}
