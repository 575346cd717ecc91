//! The `--env-vars` file of `sam local invoke` for a provisioned local stack: per function
//! (keyed by logical id, as SAM reads it) the variables `template.yaml` declares for it, with the
//! local stack's values as seen from inside a container. SAM passes a function only the variables
//! its template declares, so nothing else is written.

use crate::provision::{ProvisionError, Stack};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Every function's variables: `stack`'s values, then `extra` for the variables the function
/// declares, each rewritten by [`for_container`].
///
/// # Errors
/// As [`Stack::function_environment`].
pub fn env_vars(
    stack: &Stack,
    extra: &BTreeMap<String, String>,
    container_host: &str,
) -> Result<Value, ProvisionError> {
    let mut file = Map::new();
    for function in stack.template.functions()? {
        let mut variables = Map::new();
        for (name, value) in stack.function_environment(&function)? {
            let value = extra.get(&name).cloned().unwrap_or(value);
            variables.insert(name, Value::String(for_container(&value, container_host)));
        }
        file.insert(function.logical_id, Value::Object(variables));
    }
    Ok(Value::Object(file))
}

/// A value as a function in a container must see it: a loopback URL of this machine names
/// `container_host` instead, and a secret's ARN becomes its name (as good a `SecretId`, and the
/// same in every run, where the emulator's ARN ends in a random suffix).
#[must_use]
pub fn for_container(value: &str, container_host: &str) -> String {
    for loopback in ["http://127.0.0.1:", "http://localhost:"] {
        if let Some(rest) = value.strip_prefix(loopback) {
            return format!("http://{container_host}:{rest}");
        }
    }
    if value.starts_with("arn:aws:secretsmanager:")
        && let Some((_, name)) = value.split_once(":secret:")
        && let Some((name, suffix)) = name.rsplit_once('-')
        && suffix.len() == 6
    {
        return name.to_owned();
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_and_secret_arns_are_rewritten_and_nothing_else() {
        let host = "host.docker.internal";
        assert_eq!(
            for_container("http://127.0.0.1:8043/123456789012/dev-DeliveryQueue", host),
            "http://host.docker.internal:8043/123456789012/dev-DeliveryQueue"
        );
        assert_eq!(
            for_container("http://localhost:8042", host),
            "http://host.docker.internal:8042"
        );
        assert_eq!(
            for_container(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev-AdminApiKeySecret-MQWNMI",
                host
            ),
            "dev-AdminApiKeySecret"
        );
        for unchanged in [
            "dev-DataTable",
            "5s,5m,30m,2h,5h,10h,10h",
            "https://127.0.0.1.example/",
            "",
            "false",
        ] {
            assert_eq!(for_container(unchanged, host), unchanged);
        }
    }
}
