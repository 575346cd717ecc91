//! The data the sample events in `events/` refer to, so each of them can be invoked against a
//! local stack (`cargo lambda invoke --data-file events/…`, the samples test) and answer what a
//! real request would: the account whose API key the samples carry, its user, photo, subscription
//! and event. Local development only: the keys are public, in this file and in `events/`.
//!
//! `seed` puts that state back however the previous sample left it (a deleted user or
//! subscription, a rotated secret, a paused subscription), so every sample starts from the same
//! state and their order does not matter.

use shared::model::{Account, Event, SigningSecret, Subscription, User, now};
use shared::model::{AccountId, ApiKey, ApiKeyId, EventId, SubscriptionId, UserId};
use shared::ports::{
    AccountStore, EventStore, PhotoStore, StoreError, SubscriptionStore, UserStore,
};

/// `AdminApiKey` of local stacks that run the samples (`make dev`, the samples test).
pub const ADMIN_KEY: &str = "local-admin-key-used-by-the-sample-events";
/// The API key in every account-scoped sample event.
pub const API_KEY: &str = "rhk_sample-events-local-only-not-a-real-key-0000";
pub const ACCOUNT_ID: &str = "acc_01KSAMP1E00000000000000000";
/// The id of the sample account's key.
pub const API_KEY_ID: &str = "key_01KSAMP1E00000000000000000";
pub const USER_ID: &str = "usr_01KSAMP1E00000000000000001";
pub const USERNAME: &str = "sample-user";
pub const PHOTO_ID: &str = "photo-1";
pub const SUBSCRIPTION_ID: &str = "sub_01KSAMP1E00000000000000001";
/// The sample user's `user.created` event, the one the stream and SQS samples carry.
pub const EVENT_ID: &str = "evt_01KSAMP1E00000000000000001";
/// Signing secret of the sample subscription, so a receiver can verify what it gets.
pub const WEBHOOK_SECRET: &str = "whsec_c2FtcGxlLXNlY3JldC1mb3ItbG9jYWwtdXNlLW9ubHk=";
const CREATED_AT: &str = "2026-11-22T12:00:00.000Z";

/// When the sample records were made (fixed, so the samples stay the same).
fn created_at() -> shared::model::Timestamp {
    shared::model::Timestamp::parse(CREATED_AT).unwrap_or_else(shared::model::Timestamp::now)
}

/// The store of a provisioned stack (its `DataTable` and `EventsTable`).
///
/// # Errors
/// The template defines no such tables.
pub fn store(
    clients: &crate::provision::Clients,
    stack: &crate::provision::Stack,
) -> Result<shared::adapters::dynamodb::DynamoStore, String> {
    let name = |id: &str| {
        stack
            .table(id)
            .map(|t| t.name.clone())
            .ok_or_else(|| format!("the template defines no {id}"))
    };
    Ok(shared::adapters::dynamodb::DynamoStore::new(
        clients.dynamodb.clone(),
        name("DataTable")?,
        name("EventsTable")?,
    ))
}

/// Puts the sample account, user, photo, subscription (delivering to `receiver_url`) and event in
/// place, changing only what differs from that state.
///
/// # Errors
/// The store failed.
pub async fn seed<S>(store: &S, receiver_url: &str) -> Result<(), StoreError>
where
    S: AccountStore + UserStore + PhotoStore + SubscriptionStore + EventStore,
{
    let ids = || StoreError::Backend("a sample id is not an id".into());
    let account_id = AccountId::parse(ACCOUNT_ID).ok_or_else(ids)?;
    let user_id = UserId::parse(USER_ID).ok_or_else(ids)?;
    let sample_event_id = EventId::parse(EVENT_ID).ok_or_else(ids)?;
    let subscription_id = SubscriptionId::parse(SUBSCRIPTION_ID).ok_or_else(ids)?;
    let account = Account {
        id: account_id,
        name: "samples".into(),
        created_at: created_at(),
        disabled: false,
    };
    let key = ApiKey {
        id: ApiKeyId::parse(API_KEY_ID).ok_or_else(ids)?,
        account_id,
        name: "samples".into(),
        prefix: API_KEY.chars().take(12).collect(),
        key_hash: shared::domain::secrets::api_key_hash(API_KEY),
        created_at: created_at(),
        last_used_at: None,
    };
    ignore_conflict(store.create_account(&account, &key).await)?;
    if store.get_user(&account_id, &user_id).await?.is_none() {
        let user = User {
            id: user_id,
            username: USERNAME.into(),
            password_hash: shared::domain::secrets::hash_password("sample-password")
                .map_err(|_| StoreError::Backend("hashing the sample password".into()))?,
            created_at: created_at(),
            updated_at: created_at(),
        };
        // The first time this writes the sample event; after a deleted user a fresh one.
        let event_id = if store
            .get_event(&account_id, &sample_event_id)
            .await?
            .is_some()
        {
            EventId::new()
        } else {
            sample_event_id
        };
        let event = Event {
            id: event_id,
            account_id,
            event_type: "user.created".into(),
            created_at: created_at(),
            data: serde_json::to_value(shared::api::wire::UserOut::from(&user))
                .map_err(|e| StoreError::Backend(e.to_string()))?,
            subscription_id: None,
        };
        ignore_conflict(store.create_user(&user, &account_id, &event).await)?;
    }
    if store.get_photo(&account_id, PHOTO_ID).await?.is_none() {
        let event = Event {
            id: EventId::new(),
            account_id,
            event_type: "photo.liked".into(),
            created_at: now(),
            data: serde_json::json!({"photo_id": PHOTO_ID, "likes": 1}),
            subscription_id: None,
        };
        ignore_conflict(store.like_photo(&account_id, PHOTO_ID, 0, &event).await)?;
    }
    let wanted = Subscription {
        id: subscription_id,
        account_id,
        url: receiver_url.into(),
        event_types: vec!["*".into()],
        description: Some("receives every sample event".into()),
        active: true,
        secrets: vec![SigningSecret {
            secret: WEBHOOK_SECRET.into(),
            created_at: created_at(),
            expires_at: None,
        }],
        disabled_reason: None,
        verification: None,
        headers: std::collections::BTreeMap::new(),
        created_at: created_at(),
        updated_at: created_at(),
    };
    match store
        .get_subscription(&account_id, &subscription_id)
        .await?
    {
        None => ignore_conflict(store.create_subscription(&wanted).await),
        Some(current) if same_state(&current, &wanted) => Ok(()),
        Some(current) => {
            let replacement = Subscription {
                updated_at: now(),
                ..wanted
            };
            store
                .update_subscription(&replacement, &current.updated_at)
                .await
        }
    }
}

fn same_state(current: &Subscription, wanted: &Subscription) -> bool {
    current.url == wanted.url
        && current.event_types == wanted.event_types
        && current.active
        && current.secrets.len() == 1
        && current.secrets[0].secret == wanted.secrets[0].secret
}

/// Another seed (or an earlier run) made it first: fine.
fn ignore_conflict(result: Result<(), StoreError>) -> Result<(), StoreError> {
    match result {
        Err(StoreError::Conflict) => Ok(()),
        other => other,
    }
}
