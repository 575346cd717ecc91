//! AWS SDK set-up, done once per cold start.
//!
//! The endpoints come from the standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS` /
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_DYNAMODB_STREAMS` variables, which is how the same binaries talk to DynamoDB Local and the SQS emulator.

use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::resolver::SystemResolver;
use crate::adapters::secrets_manager::SecretsManagerSecret;
use crate::api::AdminKey;
use crate::api::Api;
use crate::wiring::config::{ApiConfig, ConfigError};
use std::sync::Arc;

/// The switch of [`LOCAL_ENDPOINT_VARS`] that makes the SDK ignore the endpoint overrides.
pub const IGNORE_ENDPOINT_URLS: &str = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

/// The variables `template.yaml` declares on every function for `sam local invoke` only (which
/// passes a function only declared variables): endpoint overrides, empty when deployed, and the
/// switch that makes the SDK ignore them there (`"true"` deployed, `"false"` in `events/env.json`).
pub const LOCAL_ENDPOINT_VARS: &[&str] = &[
    IGNORE_ENDPOINT_URLS,
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
];

/// Loads region, credentials and endpoints from the environment (Lambda's, or the local stack's).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The HTTP API's use-cases on DynamoDB, as the `resources` and `subscriptions` functions run
/// them. The admin key is read from its secret the first time a request needs it (a direct
/// invocation without the authorizer's context), not at cold start.
///
/// # Errors
/// None today; the signature keeps room for set-up that can fail.
pub async fn api(
    config: ApiConfig,
) -> Result<Api<DynamoStore, SystemResolver, crate::adapters::sqs::SqsQueue>, ConfigError> {
    let sdk = sdk_config().await;
    let admin_key = match config.admin_api_key_secret {
        Some(secret) => {
            let source = Arc::new(SecretsManagerSecret::new(
                aws_sdk_secretsmanager::Client::new(&sdk),
                secret,
            ));
            AdminKey::deferred(Box::new(move || {
                let source = Arc::clone(&source);
                Box::pin(async move {
                    crate::wiring::config::admin_key(&*source)
                        .await
                        .map_err(|e| e.to_string())
                })
            }))
        }
        None => AdminKey::None,
    };
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let dead_letters = config.dead_letter_queue_url;
    let queue = config.delivery_queue_url.map(|url| {
        let queue = crate::adapters::sqs::SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url);
        match dead_letters {
            Some(dlq) => queue.with_dead_letters(dlq),
            None => queue,
        }
    });
    Ok(Api {
        store: DynamoStore::new(client, config.data_table, config.events_table),
        queue,
        resolver: SystemResolver,
        targets: config.targets,
        admin_key,
        key_uses: crate::domain::throttle::Throttle::new(crate::api::KEY_USE_EVERY),
    })
}

/// The admin key from its Secrets Manager secret (checked by [`crate::wiring::config::admin_key`]).
async fn read_admin_key(
    sdk: &aws_config::SdkConfig,
    secret: String,
) -> Result<String, ConfigError> {
    let source = SecretsManagerSecret::new(aws_sdk_secretsmanager::Client::new(sdk), secret);
    crate::wiring::config::admin_key(&source).await
}

/// What the authorizer runs with: the accounts' key hashes on DynamoDB and the admin key, read
/// from its secret once per cold start.
///
/// # Errors
/// The admin key's secret cannot be read or holds no usable key.
pub async fn authorizer(
    config: crate::wiring::config::AuthorizerConfig,
) -> Result<(DynamoStore, String), ConfigError> {
    let sdk = sdk_config().await;
    let admin_key = read_admin_key(&sdk, config.admin_api_key_secret).await?;
    // The authorizer reads account keys only; the events table name is not needed.
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.data_table,
        String::new(),
    );
    Ok((store, admin_key))
}

/// What `fanout` runs with: the subscriptions store and the delivery queue.
pub async fn fanout(
    config: crate::wiring::config::FanoutConfig,
) -> (
    DynamoStore,
    crate::adapters::sqs::SqsQueue,
    crate::adapters::dynamodb_streams::DynamoStreams,
) {
    let sdk = sdk_config().await;
    let streams = crate::adapters::dynamodb_streams::DynamoStreams::new(
        aws_sdk_dynamodbstreams::Client::new(&sdk),
        sdk.region().map(ToString::to_string).unwrap_or_default(),
    );
    // fanout reads subscriptions only; the events table name is not needed.
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.data_table,
        String::new(),
    );
    (
        store,
        crate::adapters::sqs::SqsQueue::new(
            aws_sdk_sqs::Client::new(&sdk),
            config.delivery_queue_url,
        ),
        streams,
    )
}

/// The deliver pipeline on DynamoDB, SQS and reqwest.
///
/// # Errors
/// The HTTP client cannot be built.
pub async fn pipeline(
    config: crate::wiring::config::DeliverConfig,
) -> Result<
    crate::delivery::Pipeline<
        DynamoStore,
        crate::adapters::sqs::SqsQueue,
        crate::adapters::http_sender::HttpSender,
        SystemResolver,
    >,
    reqwest::Error,
> {
    let sdk = sdk_config().await;
    let sender = crate::adapters::http_sender::HttpSender::new(
        config.targets.clone(),
        config.connect_timeout,
        config.timeout,
    )?;
    Ok(crate::delivery::Pipeline {
        store: DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            config.data_table,
            config.events_table,
        ),
        queue: crate::adapters::sqs::SqsQueue::new(
            aws_sdk_sqs::Client::new(&sdk),
            config.delivery_queue_url,
        )
        .with_dead_letters(config.dead_letter_queue_url),
        sender,
        resolver: SystemResolver,
        settings: crate::delivery::DeliverySettings {
            schedule: config.schedule,
            targets: config.targets,
            disable_after: config.disable_after,
        },
        cache: crate::delivery::SubscriptionCache::default(),
    })
}
