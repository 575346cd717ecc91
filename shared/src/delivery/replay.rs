//! A replay part's deliveries: one message per event, to the part's subscription, forced (sent
//! again even if delivered before: a replay asks for exactly that).

use crate::model::ReplayPart;
use crate::model::delivery::{DeliveryMessage, Target};

/// The messages of one part of a replay.
#[must_use]
pub fn messages_of(part: &ReplayPart) -> Vec<DeliveryMessage> {
    part.event_ids
        .iter()
        .map(|event_id| DeliveryMessage {
            account_id: part.account_id,
            event_id: *event_id,
            targets: vec![Target {
                subscription_id: part.subscription_id,
                version: Some(part.version),
            }],
            force: true,
            continuation: None,
        })
        .collect()
}
