//! The API-key contract: more keys per account, revoked at once, accounts disabled and enabled.

use crate::support::{account, at};
use shared::model::{Account, AccountId, ApiKey, ApiKeyId, now};
use shared::ports::{StoreError, Stores};

pub(crate) fn api_key(account: &AccountId, hash: &str, n: u128) -> ApiKey {
    ApiKey {
        id: ApiKeyId::from_parts(1_767_225_600_000, n),
        account_id: *account,
        name: format!("key {n}"),
        prefix: "rhk_abcdefgh".into(),
        key_hash: hash.into(),
        created_at: at("2026-12-03T12:00:00.000Z"),
        last_used_at: None,
    }
}

/// More keys, listed oldest first; a revoked key and a disabled account's keys are refused at
/// once; an account enabled again is accepted again; a key's use is noted.
pub(crate) async fn keys_are_revoked_and_accounts_disabled_at_once<S: Stores>(store: &S) {
    let (mine, theirs) = (account(), account());
    for (id, name) in [(mine, "mine"), (theirs, "theirs")] {
        let made = Account {
            id,
            name: name.into(),
            created_at: now(),
            disabled: false,
        };
        let first = api_key(&id, &format!("{id}-1"), 1);
        store.create_account(&made, &first).await.unwrap();
    }
    let second = api_key(&mine, &format!("{mine}-2"), 2);
    store.create_api_key(&second).await.unwrap();
    assert!(matches!(
        store.create_api_key(&second).await,
        Err(StoreError::Conflict)
    ));
    let listed = store.list_api_keys(&mine, 1, None).await.unwrap();
    assert_eq!(listed.items[0].name, "key 1");
    let next = store
        .list_api_keys(&mine, 1, listed.next_cursor.as_deref())
        .await
        .unwrap();
    assert_eq!(next.items, std::slice::from_ref(&second));
    assert_eq!(next.next_cursor, None);

    let used = at("2026-12-03T13:00:00.000Z");
    store.note_key_use(&mine, &second.id, used).await.unwrap();
    let listed = store.list_api_keys(&mine, 10, None).await.unwrap();
    assert_eq!(listed.items[1].last_used_at, Some(used));

    assert!(
        matches!(
            store.revoke_api_key(&theirs, &second.id).await,
            Err(StoreError::NotFound)
        ),
        "another account's key id names nothing"
    );
    store.revoke_api_key(&mine, &second.id).await.unwrap();
    assert_eq!(store.account_for_key(&second.key_hash).await.unwrap(), None);
    assert!(matches!(
        store.revoke_api_key(&mine, &second.id).await,
        Err(StoreError::NotFound)
    ));
    store.note_key_use(&mine, &second.id, used).await.unwrap();

    let disabled = store.set_account_disabled(&mine, true).await.unwrap();
    assert!(disabled.disabled);
    assert_eq!(
        store.account_for_key(&format!("{mine}-1")).await.unwrap(),
        None
    );
    assert!(
        store
            .account_for_key(&format!("{theirs}-1"))
            .await
            .unwrap()
            .is_some(),
        "only that account"
    );
    assert!(
        !store
            .set_account_disabled(&mine, false)
            .await
            .unwrap()
            .disabled
    );
    assert!(
        store
            .account_for_key(&format!("{mine}-1"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store.set_account_disabled(&account(), true).await,
        Err(StoreError::NotFound)
    ));
}
