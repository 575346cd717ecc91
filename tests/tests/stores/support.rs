//! Records to store, and a DynamoDB store on a fresh copy of the tables.

use crate::common::fresh_stack;
use shared::adapters::dynamodb::DynamoStore;
use shared::model::{
    AccountId, Event, EventId, SigningSecret, Subscription, SubscriptionId, Timestamp, User,
    UserId, now,
};

pub(crate) async fn dynamo_store() -> DynamoStore {
    // Queue names are at most 80 characters: the prefix stays short, the counter unique.
    let (clients, stack) = fresh_stack("store", &[]).await;
    DynamoStore::new(
        clients.dynamodb,
        stack.table("DataTable").unwrap().name.clone(),
        stack.table("EventsTable").unwrap().name.clone(),
    )
}

/// The instant an RFC 3339 text names.
pub(crate) fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

pub(crate) fn account() -> AccountId {
    AccountId::new()
}

pub(crate) fn user(username: &str) -> User {
    let at = now();
    User {
        id: UserId::new(),
        username: username.into(),
        password_hash: "hash".into(),
        created_at: at,
        updated_at: at,
    }
}

pub(crate) fn event(account: &AccountId, event_type: &str) -> Event {
    Event {
        id: EventId::new(),
        account_id: *account,
        event_type: event_type.into(),
        created_at: now(),
        data: serde_json::json!({"n": 1}),
        subscription_id: None,
    }
}

pub(crate) fn subscription(account: &AccountId, filters: &[&str], active: bool) -> Subscription {
    let at = now();
    Subscription {
        id: SubscriptionId::new(),
        account_id: *account,
        url: "https://example.com/hook".into(),
        event_types: filters.iter().map(|f| (*f).to_owned()).collect(),
        description: None,
        active,
        secrets: vec![SigningSecret {
            secret: "whsec_c2VjcmV0".into(),
            created_at: at,
            expires_at: None,
        }],
        disabled_reason: None,
        verification: None,
        headers: std::collections::BTreeMap::new(),
        created_at: at,
        updated_at: at,
    }
}
