//! Secrets Manager secrets of the template (`AWS::SecretsManager::Secret`), created in the
//! emulator as `devstack provision` creates tables and queues.

use super::clients::Clients;
use super::error::{ProvisionError, aws_error, definition};
use serde_json::{Map, Value};

/// Creates the secret with `value`, or with a value made as its `GenerateSecretString` says
/// (length and character set; the other options are not read). An existing secret keeps its
/// value unless `value` is given. Its ARN.
pub(crate) async fn create_secret(
    clients: &Clients,
    name: &str,
    id: &str,
    properties: &Map<String, Value>,
    value: Option<&str>,
) -> Result<String, ProvisionError> {
    let existing = clients
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await;
    if let Ok(found) = existing {
        if let Some(value) = value {
            clients
                .secrets
                .put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .map_err(|e| aws_error(id, "PutSecretValue", &e))?;
        }
        return found
            .arn
            .ok_or_else(|| definition(id, "DescribeSecret returned no ARN"));
    }
    let value = match value {
        Some(value) => value.to_owned(),
        None => generate_secret(&properties["GenerateSecretString"]),
    };
    let created = clients
        .secrets
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| aws_error(id, "CreateSecret", &e))?;
    created
        .arn
        .ok_or_else(|| definition(id, "CreateSecret returned no ARN"))
}

/// A random value of `PasswordLength` (default 32) letters and digits, each equally likely.
fn generate_secret(settings: &Value) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // 248 = 4 × 62: bytes at or above it are drawn again, so no character is favoured.
    const UNBIASED: u8 = 248;
    let length = settings["PasswordLength"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(32);
    let mut value = String::with_capacity(length);
    let mut bytes = [0u8; 64];
    while value.len() < length {
        shared::domain::secrets::fill_random(&mut bytes);
        value.extend(
            bytes
                .iter()
                .filter(|b| **b < UNBIASED)
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .take(length - value.len()),
        );
    }
    value
}
