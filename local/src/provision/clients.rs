//! The SDK clients of the emulators a stack lives in.

/// The SDK clients provisioning uses (pointed at the local emulators by the standard
/// `AWS_ENDPOINT_URL_*` variables).
#[derive(Clone)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub region: String,
}

impl Clients {
    /// Builds the clients from the environment.
    pub async fn from_env() -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_config(&config)
    }

    #[must_use]
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            streams: aws_sdk_dynamodbstreams::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            region: config
                .region()
                .map_or_else(|| "us-east-1".to_owned(), ToString::to_string),
        }
    }
}
