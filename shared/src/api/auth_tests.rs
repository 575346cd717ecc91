//! Bearer keys and the authorizer context.

use super::*;
use crate::model::AccountId;
use serde_json::json;

#[test]
fn bearer_keys_are_parsed_strictly() {
    assert_eq!(bearer_key(Some("Bearer abc")), Some("abc"));
    assert_eq!(bearer_key(Some("bearer  abc ")), Some("abc"));
    assert_eq!(bearer_key(Some("Basic abc")), None);
    assert_eq!(bearer_key(Some("Bearer ")), None);
    assert_eq!(bearer_key(None), None);
    let long = format!("Bearer {}", "k".repeat(MAX_KEY_CHARS + 1));
    assert_eq!(bearer_key(Some(&long)), None);
}

#[test]
fn context_round_trips_and_rejects_anything_else() {
    let account = AccountId::parse("acc_01KSAMP1E00000000000000000").unwrap();
    for caller in [Caller::Admin, Caller::Account(account)] {
        let context = to_context(&caller);
        assert_eq!(from_context(|n| context.get(n)), Some(caller));
    }
    assert_eq!(
        Value::Object(to_context(&Caller::Account(account))),
        json!({"caller": "account", "account_id": "acc_01KSAMP1E00000000000000000"})
    );
    for bad in [
        json!({}),
        json!({"caller": "root"}),
        json!({"caller": "account"}),
        json!({"caller": "account", "account_id": ""}),
        json!({"caller": 1}),
    ] {
        assert_eq!(from_context(|n| bad.get(n)), None, "{bad}");
    }
}
