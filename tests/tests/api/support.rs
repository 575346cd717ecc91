//! Helpers of the handler tests: event types emitted, problem+json checks, an account's id.

use crate::common;
use crate::common::api::TestApi;

pub(crate) fn event_types(api: &TestApi) -> Vec<String> {
    api.store
        .events()
        .iter()
        .map(|e| e.event_type.clone())
        .collect()
}

pub(crate) fn assert_problem(reply: &common::api::Reply, status: u16) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    for field in ["type", "title", "status", "detail"] {
        assert!(
            reply.body.get(field).is_some(),
            "problem without {field}: {}",
            reply.body
        );
    }
    assert_eq!(reply.body["status"], status);
}

pub(crate) async fn api_account(api: &TestApi, key: &str) -> shared::model::AccountId {
    match api
        .authenticate(Some(&format!("Bearer {key}")))
        .await
        .unwrap()
    {
        shared::api::Caller::Account(id) => id,
        shared::api::Caller::Admin => panic!("not an account key"),
    }
}
