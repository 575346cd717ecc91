//! What the scheduled `samples` function needs: the accounts that asked for sample events (data
//! table) and the outbox to publish them to (events table).

use super::config::{ConfigError, Source, required, vars};
use crate::adapters::dynamodb::DynamoStore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplesConfig {
    pub data_table: String,
    pub events_table: String,
}

impl SamplesConfig {
    pub const VARS: &'static [&'static str] = &[vars::DATA_TABLE, vars::EVENTS_TABLE];

    /// # Errors
    /// A variable is missing or empty.
    pub fn load(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            data_table: required(source, vars::DATA_TABLE)?,
            events_table: required(source, vars::EVENTS_TABLE)?,
        })
    }
}

/// The store on DynamoDB.
pub async fn store(config: SamplesConfig) -> DynamoStore {
    let sdk = super::aws::sdk_config().await;
    DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.data_table,
        config.events_table,
    )
}
