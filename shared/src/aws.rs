//! AWS SDK set-up, done once per cold start.
//!
//! The endpoints come from the standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS`
//! variables, which is how the same binaries talk to DynamoDB Local and the SQS emulator.

use crate::adapters::dynamodb::DynamoStore;
use crate::config::ApiConfig;
use crate::domain::target::SystemResolver;
use crate::service::Api;

/// Loads region, credentials and endpoints from the environment (Lambda's, or the local stack's).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The HTTP API's use-cases on DynamoDB, as the `resources` and `subscriptions` functions run them.
pub async fn api(config: ApiConfig) -> Api<DynamoStore, SystemResolver> {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    Api {
        store: DynamoStore::new(client, config.data_table, config.events_table),
        resolver: SystemResolver,
        targets: config.targets,
        admin_key: config.admin_api_key,
    }
}
