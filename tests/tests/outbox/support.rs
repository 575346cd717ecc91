//! An API on DynamoDB Local and the events it wrote.

use crate::common::api::{FixedDns, with_store};
use crate::common::fresh_stack;
use aws_sdk_dynamodb::types::AttributeValue;
use devstack::provision::{Clients, Stack};
use shared::adapters::dynamodb::{DynamoStore, event_from_item};
use shared::api::Api;
use shared::model::Event;

pub(crate) async fn dynamo_api(
    test: &str,
) -> (
    Clients,
    Stack,
    Api<DynamoStore, FixedDns, shared::adapters::sqs::SqsQueue>,
) {
    let (clients, stack) = fresh_stack(test, &[]).await;
    let store = DynamoStore::new(
        clients.dynamodb.clone(),
        stack.table("DataTable").unwrap().name.clone(),
        stack.table("EventsTable").unwrap().name.clone(),
    );
    let queue = shared::adapters::sqs::SqsQueue::new(
        clients.sqs.clone(),
        stack.queue("DeliveryQueue").unwrap().url.clone(),
    )
    .with_dead_letters(stack.queue("DeliveryDeadLetterQueue").unwrap().url.clone());
    (clients, stack, with_store(store, queue))
}

/// Every event item of an account, oldest first, read straight from the events table.
pub(crate) async fn events_of(
    clients: &Clients,
    stack: &Stack,
    account: &shared::model::AccountId,
) -> Vec<Event> {
    let output = clients
        .dynamodb
        .query()
        .table_name(&stack.table("EventsTable").unwrap().name)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("ACC#{account}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    output
        .items
        .unwrap_or_default()
        .into_iter()
        .map(|item| {
            assert_eq!(
                item["entity"].as_s().unwrap(),
                "event",
                "the stream filter keys on entity = event"
            );
            event_from_item(item).unwrap()
        })
        .collect()
}

pub(crate) async fn account_id(
    api: &Api<DynamoStore, FixedDns, shared::adapters::sqs::SqsQueue>,
    key: &str,
) -> shared::model::AccountId {
    match api
        .authenticate(Some(&format!("Bearer {key}")))
        .await
        .unwrap()
    {
        shared::api::Caller::Account(id) => id,
        shared::api::Caller::Admin => panic!("admin"),
    }
}
