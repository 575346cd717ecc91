//! The contracts of the delivery store: matching, recorded statuses and attempts, failing marks,
//! deactivation.

use crate::support::{account, at, event, subscription};
use shared::model::AccountId;
use shared::model::delivery::{Attempt, DeliveryState, DeliveryStatus, delivery_id};
use shared::model::operational::SubscriptionDisabled;
use shared::model::{EventId, SubscriptionId};
use shared::ports::Stores;
use shared::ports::delivery::Recorded;
use std::collections::BTreeSet;

pub(crate) async fn matching_subscriptions_include_inactive_ones<S: Stores>(store: &S) {
    let acc = account();
    let nouns = subscription(&acc, &["user.*"], true);
    let paused = subscription(&acc, &["user.created"], false);
    let photos = subscription(&acc, &["photo.*"], true);
    for s in [&nouns, &paused, &photos] {
        store.create_subscription(s).await.unwrap();
    }
    let found: BTreeSet<SubscriptionId> = store
        .matching_subscriptions(&acc, "user.created")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(found, BTreeSet::from([nouns.id, paused.id]));
    assert!(
        store
            .matching_subscriptions(&account(), "user.created")
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) fn attempt(
    event_id: EventId,
    subscription_id: SubscriptionId,
    n: u32,
    attempted_at: &str,
) -> Attempt {
    Attempt {
        delivery_id: delivery_id(event_id, subscription_id),
        event_id,
        subscription_id,
        attempt: n,
        attempted_at: at(attempted_at),
        status_code: Some(500),
        error: None,
        duration_ms: 12,
        response_body: Some("oops".into()),
        outcome: DeliveryState::Retrying,
        next_attempt_at: Some(at("2030-01-01T00:00:05.000Z")),
    }
}

pub(crate) async fn recorded_deliveries_are_read_back<S: Stores>(store: &S) {
    let acc = account();
    let hook = subscription(&acc, &["*"], true);
    store.create_subscription(&hook).await.unwrap();
    let happened = event(&acc, "user.created");
    store.publish(&happened, None).await.unwrap();
    let read = store
        .delivery_subscriptions(&[(acc, hook.id)])
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].subscription.as_ref(), Some(&hook));
    assert!(!read[0].failing);
    let fresh = store.event_deliveries(&[(acc, happened.id)]).await.unwrap();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].event.as_ref(), Some(&happened));
    assert!(fresh[0].statuses.is_empty());

    let attempts: Vec<Attempt> = (1..=3)
        .map(|n| {
            attempt(
                happened.id,
                hook.id,
                n,
                &format!("2030-01-01T00:00:0{n}.000Z"),
            )
        })
        .collect();
    for a in &attempts {
        let status = DeliveryStatus {
            delivery_id: a.delivery_id.clone(),
            event_id: happened.id,
            subscription_id: hook.id,
            status: DeliveryState::Retrying,
            attempts: a.attempt,
            updated_at: a.attempted_at,
            next_attempt_at: a.next_attempt_at,
        };
        store
            .record_deliveries(&[Recorded {
                account_id: acc,
                attempt: Some(a.clone()),
                status,
            }])
            .await
            .unwrap();
    }
    let statuses = store.deliveries_of_event(&acc, &happened.id).await.unwrap();
    assert_eq!(statuses.len(), 1, "one status per delivery, the latest");
    assert_eq!(statuses[0].attempts, 3);
    let read = store.event_deliveries(&[(acc, happened.id)]).await.unwrap();
    assert_eq!(
        read[0]
            .statuses
            .iter()
            .map(|s| s.attempts)
            .collect::<Vec<_>>(),
        [3]
    );

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .attempts_of_subscription(&acc, &hook.id, 2, cursor.as_deref())
            .await
            .unwrap();
        seen.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<Attempt> = attempts.into_iter().rev().collect();
    assert_eq!(seen, newest_first);
    assert!(
        store
            .attempts_of_subscription(&account(), &hook.id, 10, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

pub(crate) async fn failing_marks_keep_their_first_time<S: Stores>(store: &S) {
    let acc = account();
    let hook = subscription(&acc, &["*"], true);
    store.create_subscription(&hook).await.unwrap();
    let day = std::time::Duration::from_secs(86_400);
    let mark = |when: &'static str| {
        let hook = hook.id;
        async move {
            store
                .mark_failing(&acc, &hook, &at(when), day)
                .await
                .unwrap()
        }
    };
    let first = at("2030-01-01T00:00:00.000Z");
    assert_eq!(mark("2030-01-01T00:00:00.000Z").await, first);
    assert_eq!(
        mark("2030-01-01T20:00:00.000Z").await,
        first,
        "failing since the first failure"
    );
    assert_eq!(
        mark("2030-01-02T19:00:00.000Z").await,
        first,
        "each failure within a day of the one before continues the window"
    );
    let failing = || async {
        store
            .delivery_subscriptions(&[(acc, hook.id)])
            .await
            .unwrap()[0]
            .failing
    };
    assert!(failing().await);
    store.mark_healthy(&acc, &hook.id).await.unwrap();
    assert!(!failing().await);
    let later = at("2030-01-03T00:00:00.000Z");
    assert_eq!(mark("2030-01-03T00:00:00.000Z").await, later);
    // More than a day without a failure: a success may have gone unseen, the window restarts.
    assert_eq!(
        mark("2030-01-04T00:00:01.000Z").await,
        at("2030-01-04T00:00:01.000Z")
    );
}

pub(crate) async fn deactivation_is_recorded_with_its_event_once_and_a_missing_subscription_is_no_error<
    S: Stores,
>(
    store: &S,
) {
    let acc = account();
    let hook = subscription(&acc, &["*"], true);
    store.create_subscription(&hook).await.unwrap();
    let disabled = |id| SubscriptionDisabled {
        subscription_id: id,
        url: "https://hooks.example.com/in".into(),
        reason: "gone".into(),
        disabled_at: at("2026-12-03T12:00:00.000Z"),
    };
    assert!(store.deactivate(&acc, &disabled(hook.id)).await.unwrap());
    let stored = store
        .get_subscription(&acc, &hook.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.active);
    assert_eq!(stored.disabled_reason.as_deref(), Some("gone"));
    let events = store.list_events(&acc, None, 10, None).await.unwrap().items;
    assert_eq!(events.len(), 1, "the change and its event together");
    assert_eq!(events[0].event_type, "subscription.disabled");
    assert_eq!(events[0].data["subscription_id"], hook.id.to_string());
    assert_eq!(events[0].data["reason"], "gone");
    assert!(
        !store.deactivate(&acc, &disabled(hook.id)).await.unwrap(),
        "already inactive: no second event"
    );
    let never_stored = subscription(&acc, &["*"], true).id;
    assert!(
        !store
            .deactivate(&acc, &disabled(never_stored))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .list_events(&acc, None, 10, None)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

fn delivered(
    acc: AccountId,
    event_id: EventId,
    subscription_id: SubscriptionId,
    when: &str,
) -> Recorded {
    let mut a = attempt(event_id, subscription_id, 1, when);
    a.status_code = Some(200);
    a.response_body = None;
    a.outcome = DeliveryState::Delivered;
    a.next_attempt_at = None;
    Recorded {
        account_id: acc,
        status: DeliveryStatus {
            delivery_id: a.delivery_id.clone(),
            event_id,
            subscription_id,
            status: DeliveryState::Delivered,
            attempts: 1,
            updated_at: a.attempted_at,
            next_attempt_at: None,
        },
        attempt: Some(a),
    }
}

pub(crate) async fn one_write_records_many_deliveries_and_writes_never_overwrite<S: Stores>(
    store: &S,
) {
    let acc = account();
    let hooks: Vec<_> = (0..10).map(|_| subscription(&acc, &["*"], true)).collect();
    let first = event(&acc, "order.received");
    let second = event(&acc, "order.received");
    // One batch: ten deliveries of the first event, and one of the second.
    let mut batch: Vec<Recorded> = hooks
        .iter()
        .map(|h| delivered(acc, first.id, h.id, "2030-01-01T00:00:01.000Z"))
        .collect();
    batch.push(delivered(
        acc,
        second.id,
        hooks[0].id,
        "2030-01-01T00:00:02.000Z",
    ));
    store.record_deliveries(&batch).await.unwrap();
    let statuses = store.deliveries_of_event(&acc, &first.id).await.unwrap();
    assert_eq!(statuses.len(), 10);
    assert!(
        statuses
            .iter()
            .all(|s| s.status == DeliveryState::Delivered)
    );
    // A later write for one delivery (a duplicate's retry, or a resend) is added beside the
    // first, and the view shows the later one.
    let retried = Recorded {
        status: DeliveryStatus {
            status: DeliveryState::Retrying,
            attempts: 2,
            updated_at: at("2030-01-01T00:00:09.000Z"),
            ..batch[3].status.clone()
        },
        attempt: Some(attempt(
            first.id,
            hooks[3].id,
            2,
            "2030-01-01T00:00:09.000Z",
        )),
        account_id: acc,
    };
    let (a, b) = tokio::join!(
        store.record_deliveries(std::slice::from_ref(&retried)),
        store.record_deliveries(&batch[..1])
    );
    a.unwrap();
    b.unwrap();
    let statuses = store.deliveries_of_event(&acc, &first.id).await.unwrap();
    assert_eq!(statuses.len(), 10, "one status per delivery");
    let third = statuses
        .iter()
        .find(|s| s.subscription_id == hooks[3].id)
        .unwrap();
    assert_eq!((third.status, third.attempts), (DeliveryState::Retrying, 2));
    // The attempt log of hooks[0]: the newest event first, then each event's attempts.
    let log = store
        .attempts_of_subscription(&acc, &hooks[0].id, 10, None)
        .await
        .unwrap();
    let events: Vec<EventId> = log.items.iter().map(|a| a.event_id).collect();
    assert_eq!(events, [second.id, first.id, first.id]);
    assert!(log.items.iter().all(|a| a.status_code == Some(200)));
    let log = store
        .attempts_of_subscription(&acc, &hooks[3].id, 10, None)
        .await
        .unwrap();
    assert_eq!(
        log.items.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(log.items[0].response_body.as_deref(), Some("oops"));
}
