//! REST Hooks intent verification: a subscription created with `verify` (or asked to verify
//! again) waits, inactive, until its receiver answers a signed `webhook.verification` event with
//! its challenge; `deliver` then activates it, or disables it when every attempt failed.

use super::base::Api;
use super::wire::VerificationSent;
use crate::api::error::ApiResult;
use crate::domain::secrets;
use crate::model::operational::WebhookVerification;
use crate::model::{AccountId, Event, Subscription, SubscriptionId, Verification, now};
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;

/// Puts `subscription` in `pending_verification` with a new challenge; the event that asks for
/// it, to publish once the subscription is saved.
pub(super) fn start_verification(subscription: &mut Subscription) -> Event {
    let challenge = format!("ch_{}", secrets::new_api_key().trim_start_matches("rhk_"));
    subscription.active = false;
    subscription.disabled_reason = None;
    subscription.verification = Some(Verification {
        challenge: challenge.clone(),
        requested_at: now(),
    });
    WebhookVerification {
        subscription_id: subscription.id,
        challenge,
    }
    .event(subscription.account_id)
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// Asks the receiver to prove intent again (a new challenge): the subscription is
    /// `pending_verification`, and gets no other event, until it does.
    ///
    /// # Errors
    /// No such subscription; concurrent change (409); storage failure.
    pub async fn verify_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> ApiResult<VerificationSent> {
        let previous = self.subscription(account, id).await?;
        let mut updated = previous.clone();
        let event = start_verification(&mut updated);
        updated.updated_at = now();
        self.save_subscription(&updated, &previous.updated_at)
            .await?;
        self.store.publish(&event, None).await?;
        Ok(VerificationSent {
            subscription_id: updated.id,
            status: updated.status(),
            event_id: event.id,
        })
    }
}
