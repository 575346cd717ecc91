//! The catalog's sightings: what a batch notes, and how often.

#![allow(clippy::unwrap_used)]

use super::catalog::TypeSightings;
use crate::adapters::memory::MemoryStore;
use crate::model::EventId;
use crate::model::{AccountId, Event, Timestamp};
use crate::ports::EventTypeStore;
use std::time::Duration;

fn event(account: AccountId, event_type: &str, at_ms: i64) -> Event {
    Event {
        id: EventId::new(),
        account_id: account,
        event_type: event_type.to_owned(),
        created_at: Timestamp::from_unix_millis(at_ms).unwrap(),
        data: serde_json::json!({}),
        subscription_id: None,
    }
}

async fn catalog(store: &MemoryStore, account: &AccountId) -> Vec<(String, i64, i64)> {
    store
        .list_event_types(account, 100, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| {
            (
                t.event_type,
                t.first_seen.unix_millis(),
                t.last_seen.unix_millis(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_batch_notes_each_type_once_with_its_span() {
    let (store, sightings) = (MemoryStore::new(), TypeSightings::default());
    let (a, b) = (AccountId::new(), AccountId::new());
    let batch = [
        event(a, "order.placed", 3_000),
        event(a, "order.placed", 1_000),
        event(a, "invoice.paid", 2_000),
        event(a, "user.created", 2_500),
        event(b, "order.placed", 5_000),
    ];
    assert_eq!(
        sightings.note(&store, &batch).await,
        3,
        "built-in types are not noted"
    );
    assert_eq!(
        catalog(&store, &a).await,
        [
            ("invoice.paid".to_owned(), 2_000, 2_000),
            ("order.placed".to_owned(), 1_000, 3_000)
        ]
    );
    assert_eq!(
        catalog(&store, &b).await,
        [("order.placed".to_owned(), 5_000, 5_000)]
    );
}

#[tokio::test]
async fn a_type_seen_again_is_noted_once_per_period_and_never_moves_back() {
    let store = MemoryStore::new();
    let a = AccountId::new();
    let quiet = TypeSightings::default();
    assert_eq!(quiet.note(&store, &[event(a, "x.y", 1_000)]).await, 1);
    assert_eq!(quiet.note(&store, &[event(a, "x.y", 9_000)]).await, 0);
    assert_eq!(
        catalog(&store, &a).await,
        [("x.y".to_owned(), 1_000, 1_000)]
    );
    let eager = TypeSightings::new(Duration::ZERO);
    assert_eq!(eager.note(&store, &[event(a, "x.y", 9_000)]).await, 1);
    assert_eq!(eager.note(&store, &[event(a, "x.y", 4_000)]).await, 1);
    assert_eq!(
        catalog(&store, &a).await,
        [("x.y".to_owned(), 1_000, 9_000)]
    );
}
