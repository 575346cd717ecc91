//! Events: published (with an idempotency key), read with their deliveries, listed, resent;
//! the attempt log of a subscription, and the dead-letter redrive (admin).

use super::base::{Api, PageRequest, check_type_filter, new_event, reject_invalid};
use super::wire::{
    DeliveryOut, EventAccepted, EventWithDeliveries, NewEvent, PageOut, Redriven, ResendRequest,
    Resent,
};
use crate::api::error::{ApiError, ApiResult, FieldError};
use crate::domain::event_type;
use crate::model::delivery::{Attempt, DeliveryMessage, DeliveryState};
use crate::model::{AccountId, EventId, SubscriptionId};
use crate::model::{Event, EventBody, Subscription};
use crate::ports::delivery::DeliveryQueue;
use crate::ports::recipients::recipients;
use crate::ports::resolver::Resolver;
use crate::ports::{Idempotency, Published, Stores};

/// The longest `Idempotency-Key`, in characters (visible ASCII only).
pub const IDEMPOTENCY_KEY_MAX: usize = 255;

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_SECONDS: i64 = 24 * 3600;

/// What identifies a publish request for its `Idempotency-Key`: SHA-256 of its type and its
/// payload as JSON (keys sorted, so the same object written in another order is the same).
fn request_fingerprint(input: &NewEvent) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{}\n{}", input.event_type, input.payload).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// Publishes a custom event. With an idempotency key used in the last 24 hours, returns the
    /// event it made and creates nothing; the flag says which happened.
    ///
    /// # Errors
    /// Invalid type, payload or key; storage failure.
    pub async fn publish_event(
        &self,
        account: &AccountId,
        input: NewEvent,
        idempotency_key: Option<&str>,
    ) -> ApiResult<(EventAccepted, bool)> {
        let mut errors = Vec::new();
        if !event_type::is_event_type(&input.event_type) {
            errors.push(FieldError::new("type", event_type::EVENT_TYPE_RULE));
        } else if input.event_type.starts_with("webhook.") {
            errors.push(FieldError::new("type", "the webhook.* types are reserved"));
        }
        if !input.payload.is_object() {
            errors.push(FieldError::new("payload", "must be a JSON object"));
        }
        if let Some(key) = idempotency_key
            && (key.is_empty()
                || key.len() > IDEMPOTENCY_KEY_MAX
                || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            errors.push(FieldError::new(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            ));
        }
        reject_invalid(errors)?;
        let published = new_event(account, &input.event_type, &input.payload)?;
        let fingerprint = request_fingerprint(&input);
        let key = idempotency_key.map(|key| Idempotency {
            key,
            expires_at: chrono::Utc::now().timestamp() + IDEMPOTENCY_SECONDS,
            fingerprint: &fingerprint,
        });
        match self.store.publish(&published, key).await? {
            Published::Created => Ok((EventAccepted::from(&published), false)),
            Published::Reused => Err(ApiError::Validation(vec![FieldError::new(
                "Idempotency-Key",
                "was used in the last 24 hours with another request; use a new key",
            )])),
            Published::Existing(id) => {
                let first = self
                    .store
                    .get_event(account, &id)
                    .await?
                    .ok_or(ApiError::NotFound("event"))?;
                Ok((EventAccepted::from(&first), true))
            }
        }
    }

    /// # Errors
    /// No such event in the account.
    pub async fn get_event(
        &self,
        account: &AccountId,
        id: &EventId,
    ) -> ApiResult<EventWithDeliveries> {
        let found = self
            .store
            .get_event(account, id)
            .await?
            .ok_or(ApiError::NotFound("event"))?;
        Ok(EventWithDeliveries {
            deliveries: self.deliveries(&found).await?,
            event: found.representation(),
        })
    }

    /// Per subscription: the recorded status, or `pending` for a subscription the event goes to
    /// (one that existed when it was written) that has no attempt yet.
    pub(super) async fn deliveries(&self, event: &Event) -> ApiResult<Vec<DeliveryOut>> {
        let recorded = self
            .store
            .deliveries_of_event(&event.account_id, &event.id)
            .await?;
        let mut out: Vec<DeliveryOut> = recorded
            .iter()
            .map(|d| DeliveryOut {
                subscription_id: d.subscription_id,
                status: d.status,
                attempts: d.attempts,
                updated_at: Some(d.updated_at),
                next_attempt_at: d.next_attempt_at,
            })
            .collect();
        let targets = recipients(&self.store, event).await?;
        // Fan-out matched the subscriptions active when it ran, right after the event was
        // written: one created later never gets this event.
        for subscription in targets
            .iter()
            .filter(|s| s.active && s.created_at <= event.created_at)
        {
            if !recorded
                .iter()
                .any(|d| d.subscription_id == subscription.id)
            {
                out.push(DeliveryOut {
                    subscription_id: subscription.id,
                    status: DeliveryState::Pending,
                    attempts: 0,
                    updated_at: None,
                    next_attempt_at: None,
                });
            }
        }
        Ok(out)
    }

    /// Enqueues a fresh delivery of an event: to one subscription, or to every active one it
    /// matches. Delivered before or not, it is sent again.
    ///
    /// # Errors
    /// No such event or subscription; no queue in this function; queue failure.
    pub async fn resend_event(
        &self,
        account: &AccountId,
        id: &EventId,
        input: Option<ResendRequest>,
    ) -> ApiResult<Resent> {
        let event = self
            .store
            .get_event(account, id)
            .await?
            .ok_or(ApiError::NotFound("event"))?;
        let subscriptions: Vec<Subscription> = match input.and_then(|i| i.subscription_id) {
            Some(subscription) => {
                // A malformed id names no subscription, as an unknown one does.
                let id = SubscriptionId::parse(&subscription)
                    .ok_or(ApiError::NotFound("subscription"))?;
                vec![self.subscription(account, &id).await?]
            }
            None => recipients(&self.store, &event).await?,
        };
        let messages = DeliveryMessage::for_subscriptions(&event, &subscriptions, true);
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| ApiError::Internal("resend needs DELIVERY_QUEUE_URL".into()))?;
        queue
            .send(&messages)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Resent {
            event_id: event.id,
            queued: messages
                .iter()
                .flat_map(|m| m.targets.iter().map(|t| t.subscription_id))
                .collect(),
        })
    }

    /// Moves dead-lettered deliveries back onto the delivery queue (admin).
    ///
    /// # Errors
    /// No queue in this function; queue failure.
    pub async fn redrive_dead_letters(&self) -> ApiResult<Redriven> {
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| ApiError::Internal("redrive needs DELIVERY_QUEUE_URL".into()))?;
        let done = queue
            .redrive(10_000)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Redriven {
            method: done.method,
            messages: done.messages,
        })
    }

    /// A subscription's delivery attempts, newest first.
    ///
    /// # Errors
    /// No such subscription; bad cursor.
    pub async fn list_attempts(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
        page: PageRequest,
    ) -> ApiResult<PageOut<Attempt>> {
        self.subscription(account, id).await?;
        let found = self
            .store
            .attempts_of_subscription(account, id, page.limit, page.cursor.as_deref())
            .await?;
        Ok(PageOut::of(found, |attempt| attempt))
    }

    /// Newest first.
    ///
    /// # Errors
    /// Invalid type filter; bad cursor; storage failure.
    pub async fn list_events(
        &self,
        account: &AccountId,
        event_type: Option<&str>,
        page: PageRequest,
    ) -> ApiResult<PageOut<EventBody>> {
        check_type_filter("type", event_type)?;
        let found = self
            .store
            .list_events(account, event_type, page.limit, page.cursor.as_deref())
            .await?;
        Ok(PageOut::of(found, |event| event.representation()))
    }
}
