//! The admin key's secret on the local stack: `devstack provision` creates it as the template's
//! `GenerateSecretString` says (or with a given value), and the Secrets Manager adapter the
//! functions use reads it, as the in-memory one does in handler tests.

#![allow(clippy::unwrap_used)]

mod common;

use shared::adapters::memory::FixedSecret;
use shared::adapters::secrets_manager::SecretsManagerSecret;
use shared::ports::SecretSource;

fn secret_arn(stack: &devstack::provision::Stack) -> String {
    let subscriptions = stack
        .template
        .functions()
        .unwrap()
        .into_iter()
        .find(|f| f.binary == "subscriptions")
        .unwrap();
    stack
        .function_environment(&subscriptions)
        .unwrap()
        .remove("ADMIN_API_KEY_SECRET")
        .unwrap()
}

async fn contract(source: &impl SecretSource, expected: Option<&str>) {
    let key = shared::wiring::config::admin_key(source).await.unwrap();
    assert!(key.len() >= 32, "{key}");
    if let Some(expected) = expected {
        assert_eq!(key, expected);
    }
}

#[tokio::test]
async fn the_admin_key_secret_is_generated_and_read_back() {
    let (clients, stack) = common::fresh_stack("secret", &[]).await;
    let arn = secret_arn(&stack);
    assert!(arn.starts_with("arn:aws:secretsmanager:"), "{arn}");
    let generated = SecretsManagerSecret::new(clients.secrets.clone(), arn.clone());
    contract(&generated, None).await;
    let first = generated.read().await.unwrap();
    assert_eq!(first.len(), 48, "PasswordLength of template.yaml");
    assert!(first.chars().all(|c| c.is_ascii_alphanumeric()), "{first}");

    let given = "given-admin-key-for-this-test-000000000000";
    let (clients, stack) = common::fresh_stack("secret", &[("AdminApiKeySecret", given)]).await;
    let arn = secret_arn(&stack);
    contract(
        &SecretsManagerSecret::new(clients.secrets.clone(), arn),
        Some(given),
    )
    .await;
    contract(&FixedSecret(given.into()), Some(given)).await;
}

#[tokio::test]
async fn a_missing_secret_fails_the_cold_start_with_its_variable_named() {
    let clients = devstack::provision::Clients::from_env().await;
    let missing = SecretsManagerSecret::new(clients.secrets, "no-such-secret");
    let error = shared::wiring::config::admin_key(&missing)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("ADMIN_API_KEY_SECRET"),
        "{error}"
    );
}
