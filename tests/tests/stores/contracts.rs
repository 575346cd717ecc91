//! The contracts of the account, user, photo, subscription and event stores.

use crate::keys::api_key;
use crate::support::{account, at, event, subscription, user};
use shared::model::{Account, AccountId, EventId, SubscriptionId, now};
use shared::ports::{Idempotency, Published, StoreError, Stores};
use std::collections::BTreeSet;

const LATER: &str = "2030-01-01T00:00:00.000Z";

pub(crate) async fn accounts_are_found_by_key_hash_only<S: Stores>(store: &S) {
    let acme = Account {
        id: account(),
        name: "acme".into(),
        created_at: now(),
        disabled: false,
    };
    store
        .create_account(&acme, &api_key(&acme.id, "hash-of-acme", 1))
        .await
        .unwrap();
    let found = store
        .account_for_key("hash-of-acme")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.account_id, acme.id);
    assert!(found.key_id.is_some());
    assert_eq!(store.account_for_key("hash-of-nobody").await.unwrap(), None);
}

pub(crate) async fn usernames_are_unique_per_account_and_changes_are_checked<S: Stores>(store: &S) {
    let (mine, theirs) = (account(), account());
    let alice = user("alice");
    store
        .create_user(&alice, &mine, &event(&mine, "user.created"))
        .await
        .unwrap();
    let twin = user("ALICE");
    assert!(matches!(
        store
            .create_user(&twin, &mine, &event(&mine, "user.created"))
            .await,
        Err(StoreError::Conflict)
    ));
    store
        .create_user(&user("alice"), &theirs, &event(&theirs, "user.created"))
        .await
        .unwrap();
    assert_eq!(
        store.get_user(&mine, &alice.id).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.get_user(&theirs, &alice.id).await.unwrap(), None);

    let mut renamed = alice.clone();
    renamed.username = "alicia".into();
    renamed.updated_at = at(LATER);
    store
        .update_user(&mine, &alice, &renamed, &event(&mine, "user.updated"))
        .await
        .unwrap();
    assert_eq!(
        store.get_user(&mine, &alice.id).await.unwrap(),
        Some(renamed.clone())
    );
    // The old name is free again; the new one is taken.
    store
        .create_user(&user("alice"), &mine, &event(&mine, "user.created"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_user(&user("Alicia"), &mine, &event(&mine, "user.created"))
            .await,
        Err(StoreError::Conflict)
    ));
    // A change made from a stale read is refused.
    let mut stale = alice.clone();
    stale.password_hash = "other".into();
    assert!(matches!(
        store
            .update_user(&mine, &alice, &stale, &event(&mine, "user.updated"))
            .await,
        Err(StoreError::Conflict)
    ));
    store
        .delete_user(&mine, &renamed, &event(&mine, "user.deleted"))
        .await
        .unwrap();
    assert_eq!(store.get_user(&mine, &alice.id).await.unwrap(), None);
    let mut again = renamed.clone();
    again.username = "alicia2".into();
    assert!(matches!(
        store
            .update_user(&mine, &renamed, &again, &event(&mine, "user.updated"))
            .await,
        Err(StoreError::NotFound)
    ));
}

pub(crate) async fn users_are_paged_in_id_order_and_cursors_are_checked<S: Stores>(store: &S) {
    let acc = account();
    let mut ids = Vec::new();
    for n in 0..5 {
        let u = user(&format!("user{n}"));
        store
            .create_user(&u, &acc, &event(&acc, "user.created"))
            .await
            .unwrap();
        ids.push(u.id);
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_users(&acc, 2, cursor.as_deref()).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|u| u.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every user once, oldest first");
    assert!(matches!(
        store.list_users(&acc, 2, Some("!!")).await,
        Err(StoreError::InvalidCursor)
    ));
    // A cursor of another listing is not one of this listing's.
    for e in ["a.b", "c.d"] {
        store.publish(&event(&acc, e), None).await.unwrap();
    }
    let events = store.list_events(&acc, None, 1, None).await.unwrap();
    let foreign = events.next_cursor.unwrap();
    assert!(matches!(
        store.list_users(&acc, 2, Some(&foreign)).await,
        Err(StoreError::InvalidCursor)
    ));
}

pub(crate) async fn likes_move_only_from_the_expected_count<S: Stores>(store: &S) {
    let acc = account();
    assert_eq!(store.get_photo(&acc, "p1").await.unwrap(), None);
    store
        .like_photo(&acc, "p1", 0, &event(&acc, "photo.liked"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .like_photo(&acc, "p1", 0, &event(&acc, "photo.liked"))
            .await,
        Err(StoreError::Conflict)
    ));
    store
        .like_photo(&acc, "p1", 1, &event(&acc, "photo.liked"))
        .await
        .unwrap();
    assert_eq!(store.get_photo(&acc, "p1").await.unwrap().unwrap().likes, 2);
    assert_eq!(store.get_photo(&account(), "p1").await.unwrap(), None);
}

pub(crate) async fn subscriptions_update_only_from_what_was_read<S: Stores>(store: &S) {
    let acc = account();
    let first = subscription(&acc, &["user.*"], true);
    store.create_subscription(&first).await.unwrap();
    assert!(matches!(
        store.create_subscription(&first).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.get_subscription(&acc, &first.id).await.unwrap(),
        Some(first.clone())
    );
    let mut changed = first.clone();
    changed.url = "https://example.com/other".into();
    changed.updated_at = at(LATER);
    store
        .update_subscription(&changed, &first.updated_at)
        .await
        .unwrap();
    assert!(matches!(
        store.update_subscription(&changed, &first.updated_at).await,
        Err(StoreError::Conflict)
    ));
    let missing = subscription(&acc, &["*"], true);
    assert!(matches!(
        store
            .update_subscription(&missing, &missing.updated_at)
            .await,
        Err(StoreError::NotFound)
    ));
    store.delete_subscription(&acc, &first.id).await.unwrap();
    assert!(matches!(
        store.delete_subscription(&acc, &first.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_subscription(&acc, &first.id).await.unwrap(), None);
}

/// Every subscription a listing shows, a page of one at a time.
async fn listed<S: Stores>(
    store: &S,
    account: &AccountId,
    matching: Option<&str>,
) -> BTreeSet<SubscriptionId> {
    let mut ids = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_subscriptions(account, matching, 1, cursor.as_deref())
            .await
            .unwrap();
        ids.extend(page.items.into_iter().map(|s| s.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

pub(crate) async fn subscriptions_are_listed_by_matching_filter<S: Stores>(store: &S) {
    let acc = account();
    let nouns = subscription(&acc, &["user.*"], true);
    let likes = subscription(&acc, &["photo.liked"], true);
    let all = subscription(&acc, &["*"], true);
    let exact = subscription(&acc, &["user.created"], false);
    for s in [&nouns, &likes, &all, &exact] {
        store.create_subscription(s).await.unwrap();
    }
    assert_eq!(
        listed(store, &acc, Some("user.created")).await,
        BTreeSet::from([nouns.id, all.id, exact.id])
    );
    assert_eq!(
        listed(store, &acc, None).await,
        BTreeSet::from([nouns.id, likes.id, all.id, exact.id])
    );
    let other = store
        .list_subscriptions(&account(), None, 10, None)
        .await
        .unwrap();
    assert!(other.items.is_empty() && other.next_cursor.is_none());
}

pub(crate) async fn idempotency_keys_return_the_first_event<S: Stores>(store: &S) {
    let acc = account();
    let until = chrono::Utc::now().timestamp() + 3600;
    let key = |fingerprint: &'static str| {
        Some(Idempotency {
            key: "key-1",
            expires_at: until,
            fingerprint,
        })
    };
    let first = event(&acc, "order.placed");
    assert_eq!(
        store.publish(&first, key("same")).await.unwrap(),
        Published::Created
    );
    let second = event(&acc, "order.placed");
    assert_eq!(
        store.publish(&second, key("same")).await.unwrap(),
        Published::Existing(first.id)
    );
    assert_eq!(
        store.publish(&second, key("another")).await.unwrap(),
        Published::Reused,
        "the key with another request"
    );
    assert_eq!(store.get_event(&acc, &second.id).await.unwrap(), None);
    assert_eq!(
        store.get_event(&acc, &first.id).await.unwrap(),
        Some(first.clone())
    );
    let elsewhere = account();
    assert_eq!(
        store
            .publish(&event(&elsewhere, "order.placed"), key("another"))
            .await
            .unwrap(),
        Published::Created
    );
}

pub(crate) async fn events_are_listed_newest_first_and_by_type<S: Stores>(store: &S) {
    let acc = account();
    let mut ids = Vec::new();
    for t in ["user.created", "photo.liked", "user.created"] {
        let e = event(&acc, t);
        store.publish(&e, None).await.unwrap();
        ids.push((t, e.id));
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_events(&acc, None, 1, cursor.as_deref())
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|e| e.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<EventId> = ids.iter().rev().map(|(_, id)| *id).collect();
    assert_eq!(seen, newest_first);
    let created = store
        .list_events(&acc, Some("user.created"), 10, None)
        .await
        .unwrap();
    let expected: Vec<EventId> = ids
        .iter()
        .rev()
        .filter(|(t, _)| *t == "user.created")
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(
        created.items.into_iter().map(|e| e.id).collect::<Vec<_>>(),
        expected
    );
}
