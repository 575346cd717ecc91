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
pub async fn api(
    config: ApiConfig,
) -> Api<DynamoStore, SystemResolver, crate::adapters::sqs::SqsQueue> {
    let sdk = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let dead_letters = config.dead_letter_queue_url;
    let queue = config.delivery_queue_url.map(|url| {
        let queue = crate::adapters::sqs::SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url);
        match dead_letters {
            Some(dlq) => queue.with_dead_letters(dlq),
            None => queue,
        }
    });
    Api {
        store: DynamoStore::new(client, config.data_table, config.events_table),
        queue,
        resolver: SystemResolver,
        targets: config.targets,
        admin_key: config.admin_api_key,
    }
}

/// What `fanout` runs with: the subscriptions store and the delivery queue.
pub async fn fanout(
    config: crate::config::FanoutConfig,
) -> (DynamoStore, crate::adapters::sqs::SqsQueue) {
    let sdk = sdk_config().await;
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
    )
}

/// The deliver pipeline on DynamoDB, SQS and reqwest.
///
/// # Errors
/// The HTTP client cannot be built.
pub async fn pipeline(
    config: crate::config::DeliverConfig,
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
    })
}
