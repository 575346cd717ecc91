//! The portal's contract: links taken once, sessions kept until ended, the account read as it
//! is; and the attempt log read by event and since a time.

use crate::deliveries::attempt;
use crate::support::{account, event, subscription};
use shared::model::delivery::{Attempt, DeliveryState, DeliveryStatus};
use shared::model::{Account, PortalGrant, PortalLink, PortalSession, Timestamp, now};
use shared::ports::delivery::Recorded;
use shared::ports::{StoreError, Stores};
use std::time::Duration;

pub(crate) async fn links_are_taken_once_and_sessions_kept_until_ended<S: Stores>(store: &S) {
    let acc = account();
    let grant = PortalGrant {
        account_id: acc,
        subscriptions: Some(vec![subscription(&acc, &["*"], true).id]),
        expires_at: now().plus(Duration::from_secs(900)),
    };
    let link = PortalLink {
        grant: grant.clone(),
        session_seconds: 600,
    };
    store.put_portal_link("link-hash", &link).await.unwrap();
    assert!(
        matches!(
            store.put_portal_link("link-hash", &link).await,
            Err(StoreError::Conflict)
        ),
        "never over another"
    );
    let (first, second) = tokio::join!(
        store.take_portal_link("link-hash"),
        store.take_portal_link("link-hash")
    );
    let taken: Vec<PortalLink> = [first.unwrap(), second.unwrap()]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(taken, [link], "one of two at once gets it");
    assert_eq!(store.take_portal_link("link-hash").await.unwrap(), None);

    let session = PortalSession {
        grant,
        csrf_token: "csrf".into(),
    };
    store
        .put_portal_session("session-hash", &session)
        .await
        .unwrap();
    assert_eq!(
        store.portal_session("session-hash").await.unwrap(),
        Some(session)
    );
    assert_eq!(store.portal_session("other-hash").await.unwrap(), None);
    store.end_portal_session("session-hash").await.unwrap();
    store.end_portal_session("session-hash").await.unwrap();
    assert_eq!(store.portal_session("session-hash").await.unwrap(), None);

    assert_eq!(store.portal_account(&acc).await.unwrap(), None);
    let made = Account {
        id: acc,
        name: "acme".into(),
        created_at: now(),
        disabled: false,
    };
    let key = crate::keys::api_key(&acc, &format!("{acc}-portal"), 1);
    store.create_account(&made, &key).await.unwrap();
    assert_eq!(
        store.portal_account(&acc).await.unwrap(),
        Some(made.clone())
    );
    store.set_account_disabled(&acc, true).await.unwrap();
    assert!(store.portal_account(&acc).await.unwrap().unwrap().disabled);
}

async fn record<S: Stores>(store: &S, a: &Attempt, acc: shared::model::AccountId) {
    let status = DeliveryStatus {
        delivery_id: a.delivery_id.clone(),
        event_id: a.event_id,
        subscription_id: a.subscription_id,
        status: a.outcome,
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

pub(crate) async fn attempts_are_read_by_event_and_since_a_time<S: Stores>(store: &S) {
    let acc = account();
    let (one, two) = (
        subscription(&acc, &["*"], true),
        subscription(&acc, &["*"], true),
    );
    let old = event(&acc, "order.received");
    let recent = event(&acc, "order.received");
    store.publish(&old, None).await.unwrap();
    store.publish(&recent, None).await.unwrap();
    let stamp = |t: Timestamp| t.to_string();
    let started = now();
    let mut made = Vec::new();
    for (n, sub) in [(1, one.id), (1, two.id), (2, one.id)] {
        let mut a = attempt(
            recent.id,
            sub,
            n,
            &stamp(started.plus(Duration::from_secs(n.into()))),
        );
        if sub == two.id {
            a.outcome = DeliveryState::Delivered;
        }
        record(store, &a, acc).await;
        made.push(a);
    }
    // Another account's attempt at the same event id is not this one's.
    let other = account();
    record(
        store,
        &attempt(recent.id, one.id, 9, &stamp(started)),
        other,
    )
    .await;

    let of_event = store.attempts_of_event(&acc, &recent.id).await.unwrap();
    assert_eq!(of_event.len(), 3);
    assert_eq!(of_event[0], made[2], "newest first");
    assert!(
        store
            .attempts_of_event(&acc, &old.id)
            .await
            .unwrap()
            .is_empty()
    );

    let before = Timestamp::from_unix_millis(started.unix_millis() - 60_000).unwrap();
    let since = store.attempts_since(&acc, before, 100).await.unwrap();
    assert_eq!(since.len(), 3);
    assert!(
        since
            .windows(2)
            .all(|w| w[0].attempted_at >= w[1].attempted_at)
    );
    let from_the_event = store
        .attempts_since(&acc, recent.created_at, 100)
        .await
        .unwrap();
    assert_eq!(from_the_event.len(), 3, "since the event was created");
    let future = started.plus(Duration::from_secs(3600));
    assert!(
        store
            .attempts_since(&acc, future, 100)
            .await
            .unwrap()
            .is_empty(),
        "events older than since are not read"
    );
}
