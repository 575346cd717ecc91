//! A secret in AWS Secrets Manager (locally, the emulator's), as the stack generated it.

use crate::ports::{SecretError, SecretSource};

pub struct SecretsManagerSecret {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretsManagerSecret {
    /// The secret with this ARN or name.
    #[must_use]
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }
}

impl SecretSource for SecretsManagerSecret {
    async fn read(&self) -> Result<String, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| {
                SecretError::Backend(
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                )
            })?;
        output
            .secret_string
            .filter(|value| !value.trim().is_empty())
            .ok_or(SecretError::Empty)
    }
}
