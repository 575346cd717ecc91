//! Subscriptions: their URL (checked against the target policy), event-type filters, custom
//! headers, secrets and rotation, and the test event.

use super::base::{Api, PageRequest, check_type_filter, new_event, reject_invalid};
use super::verification::start_verification;
use super::wire::EventAccepted;
use super::wire::{
    EventTypeFilter, NewSubscription, PageOut, SecretOut, SubscriptionChanges, SubscriptionOut,
    SubscriptionWithSecret, TestSent, WebhookTest,
};
use crate::api::error::{ApiError, ApiResult, FieldError};
use crate::domain::secrets;
use crate::domain::target::TargetError;
use crate::domain::{event_type, headers, text};
use crate::model::{AccountId, SubscriptionId};
use crate::model::{SigningSecret, Subscription, Timestamp, now};
use crate::ports::delivery::DeliveryQueue;
use crate::ports::recipients::{TEST_EVENT_TYPE, recipients};
use crate::ports::resolver::Resolver;
use crate::ports::{StoreError, Stores};
use std::collections::BTreeMap;

/// What a `webhook.test` event says.
const TEST_MESSAGE: &str = "This is a test event.";

/// How long a rotated-out secret keeps signing beside the new one.
pub const SECRET_OVERLAP_SECONDS: i64 = 24 * 3600;

fn check_event_types(filters: &[EventTypeFilter], errors: &mut Vec<FieldError>) -> Vec<String> {
    if filters.is_empty() || filters.len() > 50 {
        errors.push(FieldError::new(
            "event_types",
            "must list 1 to 50 event types",
        ));
    }
    for (index, EventTypeFilter(filter)) in filters.iter().enumerate() {
        if !event_type::is_filter(filter) {
            errors.push(FieldError::new(
                format!("event_types[{index}]"),
                event_type::FILTER_RULE,
            ));
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for EventTypeFilter(filter) in filters {
        if !unique.contains(filter) {
            unique.push(filter.clone());
        }
    }
    unique
}

fn check_headers(headers: Option<&BTreeMap<String, String>>, errors: &mut Vec<FieldError>) {
    for (field, message) in headers.map(headers::problems).unwrap_or_default() {
        errors.push(FieldError::new(field, message));
    }
}

fn check_description(description: Option<&String>, errors: &mut Vec<FieldError>) {
    if let Some(Err(rule)) = description.map(|d| text::check(d, &text::DESCRIPTION_LENGTHS)) {
        errors.push(FieldError::new("description", rule));
    }
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    async fn check_url(&self, url: &str, errors: &mut Vec<FieldError>) {
        if let Err(error) = self
            .targets
            .check(url, |host, port| async move {
                self.resolver.resolve(&host, port).await
            })
            .await
        {
            let message = match error {
                TargetError::SchemeNotAllowed if self.targets.allow_http => {
                    "must use http or https".to_owned()
                }
                other => other.to_string(),
            };
            errors.push(FieldError::new("url", message));
        }
    }

    /// # Errors
    /// Invalid input (URL policy included); storage failure.
    pub async fn create_subscription(
        &self,
        account: &AccountId,
        input: NewSubscription,
    ) -> ApiResult<SubscriptionWithSecret> {
        let mut errors = Vec::new();
        self.check_url(&input.url, &mut errors).await;
        let event_types = check_event_types(&input.event_types, &mut errors);
        check_description(input.description.as_ref(), &mut errors);
        check_headers(input.headers.as_ref(), &mut errors);
        reject_invalid(errors)?;
        let at = now();
        let secret = secrets::new_webhook_secret();
        let mut subscription = Subscription {
            id: SubscriptionId::new(),
            account_id: account.to_owned(),
            url: input.url,
            event_types,
            description: input.description,
            active: input.active.unwrap_or(true),
            secrets: vec![SigningSecret {
                secret: secret.clone(),
                created_at: at,
                expires_at: None,
            }],
            disabled_reason: None,
            verification: None,
            headers: input.headers.unwrap_or_default(),
            created_at: at,
            updated_at: at,
        };
        let verification = input
            .verify
            .unwrap_or(false)
            .then(|| start_verification(&mut subscription));
        self.store.create_subscription(&subscription).await?;
        // Saved first: were this write to fail, the subscription waits, and a verify call asks again.
        if let Some(event) = verification {
            self.store.publish(&event, None).await?;
        }
        Ok(SubscriptionWithSecret {
            subscription: SubscriptionOut::from(&subscription),
            secret,
        })
    }

    pub(super) async fn subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> ApiResult<Subscription> {
        self.store
            .get_subscription(account, id)
            .await?
            .ok_or(ApiError::NotFound("subscription"))
    }

    /// # Errors
    /// No such subscription.
    pub async fn get_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> ApiResult<SubscriptionOut> {
        Ok(SubscriptionOut::from(
            &self.subscription(account, id).await?,
        ))
    }

    /// Lists subscriptions; with `event_type`, only those whose filters match it.
    ///
    /// # Errors
    /// Invalid event type; bad cursor; storage failure.
    pub async fn list_subscriptions(
        &self,
        account: &AccountId,
        event_type: Option<&str>,
        page: PageRequest,
    ) -> ApiResult<PageOut<SubscriptionOut>> {
        check_type_filter("event_type", event_type)?;
        let found = self
            .store
            .list_subscriptions(account, event_type, page.limit, page.cursor.as_deref())
            .await?;
        Ok(PageOut::of(found, |s| SubscriptionOut::from(&s)))
    }

    /// # Errors
    /// Invalid input; no such subscription; concurrent change (409).
    pub async fn update_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
        changes: SubscriptionChanges,
    ) -> ApiResult<SubscriptionOut> {
        let mut errors = Vec::new();
        if let Some(url) = &changes.url {
            self.check_url(url, &mut errors).await;
        }
        let event_types = changes
            .event_types
            .as_ref()
            .map(|filters| check_event_types(filters, &mut errors));
        check_description(changes.description.as_ref(), &mut errors);
        check_headers(changes.headers.as_ref(), &mut errors);
        reject_invalid(errors)?;
        let previous = self.subscription(account, id).await?;
        let mut updated = previous.clone();
        if let Some(url) = changes.url {
            updated.url = url;
        }
        if let Some(event_types) = event_types {
            updated.event_types = event_types;
        }
        if let Some(description) = changes.description {
            updated.description = Some(description);
        }
        if let Some(headers) = changes.headers {
            updated.headers = headers;
        }
        if let Some(active) = changes.active {
            if active && updated.verification.is_some() {
                return Err(ApiError::Conflict(
                    "the subscription waits for its receiver to prove intent: it becomes active when it echoes the challenge (POST …/verify sends a new one)".into(),
                ));
            }
            updated.active = active;
            updated.verification = None;
            if active {
                updated.disabled_reason = None;
            }
        }
        updated.updated_at = now();
        self.save_subscription(&updated, &previous.updated_at)
            .await?;
        Ok(SubscriptionOut::from(&updated))
    }

    pub(super) async fn save_subscription(
        &self,
        subscription: &Subscription,
        expected_updated_at: &Timestamp,
    ) -> ApiResult<()> {
        match self
            .store
            .update_subscription(subscription, expected_updated_at)
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::NotFound) => Err(ApiError::NotFound("subscription")),
            Err(StoreError::Conflict) => Err(ApiError::Conflict(
                "the subscription changed meanwhile; fetch it and retry".into(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// # Errors
    /// No such subscription.
    pub async fn delete_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> ApiResult<()> {
        match self.store.delete_subscription(account, id).await {
            Err(StoreError::NotFound) => Err(ApiError::NotFound("subscription")),
            other => other.map_err(ApiError::from),
        }
    }

    /// The current signing secret (and when the previous one stops signing, during an overlap).
    ///
    /// # Errors
    /// No such subscription.
    pub async fn get_secret(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> ApiResult<SecretOut> {
        let subscription = self.subscription(account, id).await?;
        let previous_expires_at = subscription.secrets.get(1).and_then(|s| s.expires_at);
        Ok(SecretOut {
            secret: subscription.current_secret().map(str::to_owned),
            previous_secret_expires_at: previous_expires_at,
        })
    }

    /// A new secret; the previous one keeps signing beside it for 24 hours. Secrets already
    /// expired are dropped.
    ///
    /// # Errors
    /// No such subscription; concurrent change (409).
    pub async fn rotate_secret(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> ApiResult<SecretOut> {
        let previous = self.subscription(account, id).await?;
        let stamp = now();
        let overlap_until = stamp.plus(std::time::Duration::from_secs(
            SECRET_OVERLAP_SECONDS.unsigned_abs(),
        ));
        let secret = secrets::new_webhook_secret();
        let mut updated = previous.clone();
        let mut kept: Vec<SigningSecret> = previous
            .secrets
            .iter()
            .take(1)
            .map(|s| SigningSecret {
                expires_at: Some(overlap_until),
                ..s.clone()
            })
            .collect();
        updated.secrets = vec![SigningSecret {
            secret: secret.clone(),
            created_at: stamp,
            expires_at: None,
        }];
        updated.secrets.append(&mut kept);
        updated.updated_at = stamp;
        self.save_subscription(&updated, &previous.updated_at)
            .await?;
        Ok(SecretOut {
            secret: Some(secret),
            previous_secret_expires_at: Some(overlap_until),
        })
    }

    /// Sends a `webhook.test` event to this subscription only.
    ///
    /// # Errors
    /// No such subscription; storage failure.
    pub async fn test_subscription(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
    ) -> ApiResult<EventAccepted> {
        let subscription = self.subscription(account, id).await?;
        let data = WebhookTest {
            subscription_id: Some(subscription.id),
            message: TEST_MESSAGE,
        };
        let mut test = new_event(account, TEST_EVENT_TYPE, &data)?;
        test.subscription_id = Some(subscription.id);
        self.store.publish(&test, None).await?;
        Ok(EventAccepted::from(&test))
    }

    /// Sends one `webhook.test` event to every active subscription of the account, whatever
    /// its event types (the fan-out reads them again: one created meanwhile gets it too).
    ///
    /// # Errors
    /// Storage failure.
    pub async fn test_all_subscriptions(&self, account: &AccountId) -> ApiResult<TestSent> {
        let data = WebhookTest {
            subscription_id: None,
            message: TEST_MESSAGE,
        };
        let test = new_event(account, TEST_EVENT_TYPE, &data)?;
        let subscriptions = recipients(&self.store, &test)
            .await?
            .iter()
            .filter(|s| s.active)
            .count();
        self.store.publish(&test, None).await?;
        Ok(TestSent {
            event: EventAccepted::from(&test),
            subscriptions,
        })
    }
}
