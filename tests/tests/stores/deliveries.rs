//! The contracts of the delivery store: matching, recorded statuses and attempts, failing marks,
//! deactivation.

use crate::support::{account, at, event, subscription};
use shared::model::delivery::{Attempt, DeliveryState, DeliveryStatus, delivery_id};
use shared::model::{EventId, SubscriptionId};
use shared::ports::Stores;
use shared::ports::delivery::{DeliveryKey, Recorded};
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

fn attempt(
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
    let key = DeliveryKey {
        account_id: acc,
        event_id: happened.id,
        subscription_id: hook.id,
    };
    let fresh = store
        .delivery_contexts(std::slice::from_ref(&key))
        .await
        .unwrap();
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].subscription.as_ref(), Some(&hook));
    assert_eq!(fresh[0].event.as_ref(), Some(&happened));
    assert_eq!((fresh[0].status.clone(), fresh[0].failing), (None, false));

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
    let context = store.delivery_contexts(&[key]).await.unwrap();
    assert_eq!(context[0].status.as_ref().map(|s| s.attempts), Some(3));

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
    let key = DeliveryKey {
        account_id: acc,
        event_id: event(&acc, "a.b").id,
        subscription_id: hook.id,
    };
    let first = at("2030-01-01T00:00:00.000Z");
    assert_eq!(
        store.mark_failing(&acc, &hook.id, &first).await.unwrap(),
        first
    );
    assert_eq!(
        store
            .mark_failing(&acc, &hook.id, &at("2030-01-01T01:00:00.000Z"))
            .await
            .unwrap(),
        first,
        "failing since the first failure"
    );
    let context = store
        .delivery_contexts(std::slice::from_ref(&key))
        .await
        .unwrap();
    assert!(context[0].failing);
    store.mark_healthy(&acc, &hook.id).await.unwrap();
    let context = store
        .delivery_contexts(std::slice::from_ref(&key))
        .await
        .unwrap();
    assert!(!context[0].failing);
    let later = at("2030-01-02T00:00:00.000Z");
    assert_eq!(
        store.mark_failing(&acc, &hook.id, &later).await.unwrap(),
        later
    );
}

pub(crate) async fn deactivation_is_recorded_and_a_missing_subscription_is_no_error<S: Stores>(
    store: &S,
) {
    let acc = account();
    let hook = subscription(&acc, &["*"], true);
    store.create_subscription(&hook).await.unwrap();
    store.deactivate(&acc, &hook.id, "gone").await.unwrap();
    let stored = store
        .get_subscription(&acc, &hook.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.active);
    assert_eq!(stored.disabled_reason.as_deref(), Some("gone"));
    store
        .deactivate(&acc, &subscription(&acc, &["*"], true).id, "gone")
        .await
        .unwrap();
    assert_eq!(
        store
            .get_subscription(&acc, &SubscriptionId::new())
            .await
            .unwrap(),
        None
    );
}
