//! Records to store, and a DynamoDB store on a fresh copy of the tables.

use crate::common::fresh_stack;
use shared::adapters::dynamodb::DynamoStore;
use shared::domain::ids::{IdKind, new_id};
use shared::model::{Event, SigningSecret, Subscription, Timestamp, User, now};

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

pub(crate) fn account() -> String {
    new_id(IdKind::Account)
}

pub(crate) fn user(username: &str) -> User {
    let at = now();
    User {
        id: new_id(IdKind::User),
        username: username.into(),
        password_hash: "hash".into(),
        created_at: at,
        updated_at: at,
    }
}

pub(crate) fn event(account: &str, event_type: &str) -> Event {
    Event {
        id: new_id(IdKind::Event),
        account_id: account.into(),
        event_type: event_type.into(),
        created_at: now(),
        data: serde_json::json!({"n": 1}),
        subscription_id: None,
    }
}

pub(crate) fn subscription(account: &str, filters: &[&str], active: bool) -> Subscription {
    let at = now();
    Subscription {
        id: new_id(IdKind::Subscription),
        account_id: account.into(),
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
        created_at: at,
        updated_at: at,
    }
}
