//! The DynamoDB adapter: every store port, on the data and events tables.

use aws_sdk_dynamodb::Client;

/// Every port, on the two tables.
#[derive(Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) data_table: String,
    pub(super) events_table: String,
}

impl DynamoStore {
    #[must_use]
    pub fn new(
        client: Client,
        data_table: impl Into<String>,
        events_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            data_table: data_table.into(),
            events_table: events_table.into(),
        }
    }
}
