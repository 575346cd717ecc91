//! The event-type catalog's contract.

use shared::model::{AccountId, SeenEventType, Timestamp};
use shared::ports::EventTypeStore;

fn seen(account: AccountId, event_type: &str, first: i64, last: i64) -> SeenEventType {
    SeenEventType {
        account_id: account,
        event_type: event_type.to_owned(),
        first_seen: Timestamp::from_unix_millis(first).unwrap(),
        last_seen: Timestamp::from_unix_millis(last).unwrap(),
    }
}

async fn listed<S: EventTypeStore>(store: &S, account: &AccountId, limit: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_event_types(account, limit, cursor.as_deref())
            .await
            .unwrap();
        names.extend(page.items.into_iter().map(|t| {
            format!(
                "{} {} {}",
                t.event_type,
                t.first_seen.unix_millis(),
                t.last_seen.unix_millis()
            )
        }));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return names,
        }
    }
}

/// A type keeps its first sighting; its last one moves forward only; listing is by name, per
/// account, paged.
pub async fn event_types_keep_their_first_sighting_and_move_forward<S: EventTypeStore>(store: &S) {
    let (a, b) = (AccountId::new(), AccountId::new());
    store
        .note_event_type(&seen(a, "order.received", 1_000, 2_000))
        .await
        .unwrap();
    store
        .note_event_type(&seen(a, "order.received", 5_000, 6_000))
        .await
        .unwrap();
    store
        .note_event_type(&seen(a, "order.received", 3_000, 4_000))
        .await
        .unwrap();
    store
        .note_event_type(&seen(a, "a.b", 7_000, 7_000))
        .await
        .unwrap();
    store
        .note_event_type(&seen(a, "zebra.seen", 8_000, 8_000))
        .await
        .unwrap();
    store
        .note_event_type(&seen(b, "order.received", 9_000, 9_000))
        .await
        .unwrap();
    let expected = [
        "a.b 7000 7000",
        "order.received 1000 6000",
        "zebra.seen 8000 8000",
    ];
    assert_eq!(listed(store, &a, 100).await, expected);
    assert_eq!(listed(store, &a, 1).await, expected, "paged one by one");
    assert_eq!(listed(store, &b, 100).await, ["order.received 9000 9000"]);
    assert!(listed(store, &AccountId::new(), 10).await.is_empty());
}
