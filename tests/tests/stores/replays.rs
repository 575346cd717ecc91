//! The replay contract: a window's event heads, and a replay written once with its parts.

use crate::support::{account, event};
use shared::model::{EventHead, EventId, Replay, ReplayPart, SubscriptionId, Timestamp};
use shared::ports::Stores;

fn ms(at: Timestamp) -> i64 {
    at.unix_millis()
}

pub(crate) async fn a_window_lists_its_events_oldest_first_and_a_replay_is_written_once<
    S: Stores,
>(
    store: &S,
) {
    let (mine, theirs) = (account(), account());
    let mut written = Vec::new();
    for (n, event_type) in [
        "order.received",
        "invoice.paid",
        "order.shipped",
        "order.received",
    ]
    .into_iter()
    .enumerate()
    {
        let mut made = event(&mine, event_type);
        // One millisecond apart, from a fixed time, so the window's edges are exact.
        let at = 1_767_225_600_000 + i64::try_from(n).unwrap();
        made.id = EventId::from_parts(u64::try_from(at).unwrap(), 7);
        made.created_at = Timestamp::from_unix_millis(at).unwrap();
        store.publish(&made, None).await.unwrap();
        written.push(made);
    }
    let mut elsewhere = event(&theirs, "order.received");
    elsewhere.id = EventId::from_parts(1_767_225_600_001, 9);
    store.publish(&elsewhere, None).await.unwrap();

    let orders = |head: &EventHead| head.event_type.starts_with("order.");
    let (first, last) = (written[0].created_at, written[3].created_at);
    let heads = store
        .event_heads(&mine, first, last, &orders, 100)
        .await
        .unwrap();
    let ids: Vec<EventId> = heads.iter().map(|h| h.id).collect();
    assert_eq!(
        ids,
        [written[0].id, written[2].id, written[3].id],
        "oldest first, kept only"
    );
    assert_eq!(heads[1].event_type, "order.shipped");
    let inner = Timestamp::from_unix_millis(ms(first) + 1).unwrap();
    let middle = store
        .event_heads(&mine, inner, inner, &|_| true, 100)
        .await
        .unwrap();
    assert_eq!(middle.len(), 1, "both ends inclusive, to the millisecond");
    assert_eq!(middle[0].id, written[1].id);
    let capped = store
        .event_heads(&mine, first, last, &|_| true, 2)
        .await
        .unwrap();
    assert_eq!(capped.len(), 2);

    let subscription = SubscriptionId::new();
    let replay = Replay {
        id: format!("rpl_{}", EventId::new()),
        account_id: mine,
        subscription_id: subscription,
        since: first,
        until: last,
        events: 3,
        created_at: last,
    };
    let part = ReplayPart {
        replay_id: replay.id.clone(),
        part: 0,
        account_id: mine,
        subscription_id: subscription,
        version: last,
        event_ids: ids,
    };
    assert_eq!(
        store
            .start_replay(&replay, std::slice::from_ref(&part))
            .await
            .unwrap(),
        None
    );
    let again = Replay {
        events: 99,
        ..replay.clone()
    };
    assert_eq!(
        store.start_replay(&again, &[part]).await.unwrap(),
        Some(replay),
        "the first one, unchanged"
    );
    let listed = store.list_events(&mine, None, 100, None).await.unwrap();
    assert_eq!(listed.items.len(), 4, "replays are not listed as events");
}
