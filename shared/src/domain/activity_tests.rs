use super::*;
use crate::model::EventId;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).unwrap()
}

fn attempt(subscription: SubscriptionId, ms: i64, outcome: DeliveryState) -> Attempt {
    Attempt {
        delivery_id: "d".into(),
        event_id: EventId::from_parts(1, 1),
        subscription_id: subscription,
        attempt: 1,
        attempted_at: at(ms),
        status_code: Some(200),
        error: None,
        duration_ms: 5,
        response_body: None,
        outcome,
        next_attempt_at: None,
    }
}

const NOW: i64 = 1_800_000_000_000;

#[test]
fn attempts_fall_in_the_hour_they_were_made_and_older_ones_drop_out() {
    let sub = SubscriptionId::from_parts(1, 1);
    let attempts = [
        attempt(sub, NOW, DeliveryState::Delivered),
        attempt(sub, NOW - 1, DeliveryState::Retrying),
        attempt(sub, NOW - HOUR_MS, DeliveryState::Delivered),
        attempt(sub, NOW - 23 * HOUR_MS - 1, DeliveryState::Failed),
        attempt(sub, NOW - 24 * HOUR_MS, DeliveryState::Delivered),
        attempt(sub, NOW + 1, DeliveryState::Delivered),
    ];
    let hours = hourly(&attempts, at(NOW));
    assert_eq!(
        hours[23],
        Hour {
            attempts: 2,
            failures: 1
        }
    );
    assert_eq!(
        hours[22],
        Hour {
            attempts: 1,
            failures: 0
        }
    );
    assert_eq!(
        hours[0],
        Hour {
            attempts: 1,
            failures: 1
        }
    );
    let total: u32 = hours.iter().map(|h| h.attempts).sum();
    assert_eq!(
        total, 4,
        "the one 24 h old and the one in the future are out"
    );
}

#[test]
fn success_rates_are_per_subscription_and_rounded_down() {
    let (a, b, c) = (
        SubscriptionId::from_parts(1, 1),
        SubscriptionId::from_parts(1, 2),
        SubscriptionId::from_parts(1, 3),
    );
    let attempts = [
        attempt(a, NOW, DeliveryState::Delivered),
        attempt(a, NOW, DeliveryState::Delivered),
        attempt(a, NOW, DeliveryState::Failed),
        attempt(b, NOW, DeliveryState::Retrying),
        attempt(c, NOW, DeliveryState::Delivered),
    ];
    let rates = success_rates(&attempts);
    assert_eq!(rates.get(&a), Some(&66));
    assert_eq!(rates.get(&b), Some(&0));
    assert_eq!(rates.get(&c), Some(&100));
    assert_eq!(rates.len(), 3);
}
