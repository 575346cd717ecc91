//! Subscriptions, and the filter that finds those matching an event type.

use super::calls::written;
use super::codec::{Item, item, record, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::Timestamp;
use crate::model::{AccountId, SubscriptionId};
use crate::model::{Page, Subscription};
use crate::ports::{StoreError, StoreResult, SubscriptionStore};
use aws_sdk_dynamodb::types::AttributeValue;

/// The filter that keeps subscriptions whose list holds the type, its `noun.*`, or `*`.
pub(super) fn matching_filter(
    event_type: &str,
) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    let [exact, noun, all] = crate::domain::event_type::filters_matching(event_type);
    let values = vec![(":exact", s(exact)), (":noun", s(noun)), (":all", s(all))];
    (
        "contains(event_types, :exact) OR contains(event_types, :noun) OR contains(event_types, :all)",
        values,
    )
}

fn subscription_item(subscription: &Subscription) -> StoreResult<Item> {
    item(
        subscription,
        keys::account(subscription.account_id),
        keys::subscription(subscription.id),
        "subscription",
    )
}

impl SubscriptionStore for DynamoStore {
    async fn create_subscription(&self, subscription: &Subscription) -> StoreResult<()> {
        let item = subscription_item(subscription)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.data_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if written(result)? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn get_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> StoreResult<Option<Subscription>> {
        self.get(
            &self.data_table,
            keys::account(account),
            keys::subscription(id),
        )
        .await?
        .map(record)
        .transpose()
    }

    async fn update_subscription(
        &self,
        subscription: &Subscription,
        expected_updated_at: &Timestamp,
    ) -> StoreResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.data_table)
            .set_item(Some(subscription_item(subscription)?))
            .condition_expression("attribute_exists(pk) AND updated_at = :seen")
            .expression_attribute_values(":seen", s(expected_updated_at.to_string()))
            .send()
            .await;
        if written(result)? {
            return Ok(());
        }
        match self
            .get_subscription(&subscription.account_id, &subscription.id)
            .await?
        {
            None => Err(StoreError::NotFound),
            Some(_) => Err(StoreError::Conflict),
        }
    }

    async fn delete_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> StoreResult<()> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::account(account)))
            .key("sk", s(keys::subscription(id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        if written(result)? {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn list_subscriptions(
        &self,
        account: &AccountId,
        matching: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreResult<Page<Subscription>> {
        // A filter list matches an event type when it holds the type, its `noun.*`, or `*`.
        self.query_page(
            account,
            keys::SUBSCRIPTION_PREFIX,
            matching.map(matching_filter),
            limit,
            cursor,
            true,
        )
        .await
    }
}
