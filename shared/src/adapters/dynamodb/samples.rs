//! The accounts that get sample events: one item each in the `SAMPLES` partition (sort key the
//! account's), read whole once a minute by the generator.

use super::calls::store_error;
use super::codec::{Item, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::AccountId;
use crate::ports::{SampleEventStore, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;

fn period_of(item: &Item) -> Option<u32> {
    item.get("period_seconds")?.as_n().ok()?.parse().ok()
}

impl SampleEventStore for DynamoStore {
    async fn set_sample_events(&self, account: &AccountId, period: Option<u32>) -> StoreResult<()> {
        let key = [
            ("pk".to_owned(), s(keys::SAMPLES)),
            ("sk".to_owned(), s(keys::account(account))),
        ];
        match period {
            Some(period) => {
                let mut item: Item = key.into_iter().collect();
                item.insert("entity".into(), s("sample_events"));
                item.insert("account_id".into(), s(account.to_string()));
                item.insert(
                    "period_seconds".into(),
                    AttributeValue::N(period.to_string()),
                );
                self.client
                    .put_item()
                    .table_name(&self.data_table)
                    .set_item(Some(item))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| store_error(&e))
            }
            None => self
                .client
                .delete_item()
                .table_name(&self.data_table)
                .set_key(Some(key.into_iter().collect()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| store_error(&e)),
        }
    }

    async fn sample_events(&self, account: &AccountId) -> StoreResult<Option<u32>> {
        let item = self
            .get(
                &self.data_table,
                keys::SAMPLES.into(),
                keys::account(account),
            )
            .await?;
        Ok(item.as_ref().and_then(period_of))
    }

    async fn sample_accounts(&self) -> StoreResult<Vec<(AccountId, u32)>> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.data_table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(keys::SAMPLES))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error(&e))?;
            found.extend(output.items().iter().filter_map(|item| {
                let account = item.get("account_id")?.as_s().ok()?;
                Some((AccountId::parse(account)?, period_of(item)?))
            }));
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }
}
