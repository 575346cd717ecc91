//! AWS SDK set-up, done once per cold start.
//!
//! The endpoints come from the standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS`
//! variables, which is how the same binaries talk to DynamoDB Local and the SQS emulator.

/// Loads region, credentials and endpoints from the environment (Lambda's, or the local stack's).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
