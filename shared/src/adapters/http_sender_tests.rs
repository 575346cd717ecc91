//! The sender's refusals are classified by their type, not by their text.

use super::*;

#[tokio::test]
async fn a_name_resolving_only_to_refused_addresses_is_a_refused_target() {
    // http allowed, no CIDR allowed: `localhost` resolves, but only to loopback.
    let strict = TargetPolicy::from_values(Some("true"), None).unwrap();
    let sender = HttpSender::new(strict, Duration::from_secs(2), Duration::from_secs(3)).unwrap();
    let request = WebhookRequest {
        url: "http://localhost:9/refused".into(),
        headers: vec![],
        body: b"{}".to_vec(),
    };
    let response = sender.post(&request).await;
    assert_eq!(response.status, None);
    assert_eq!(response.error.as_deref(), Some("refused_target"));
}

#[test]
fn causes_are_found_by_type_anywhere_in_the_chain() {
    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] RefusedTarget);
    let outer = Outer(RefusedTarget {
        host: "example.com".into(),
    });
    assert!(caused_by::<RefusedTarget>(&outer));
    assert!(!caused_by::<std::fmt::Error>(&outer));
}
