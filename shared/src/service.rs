//! The use-cases behind the HTTP API, generic over the storage ports so handlers are tested with
//! the in-memory adapter and run on DynamoDB.

use crate::domain::event_type;
use crate::domain::ids::{IdKind, new_id};
use crate::domain::secrets;
use crate::domain::target::{Resolver, TargetError, TargetPolicy};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::model::delivery::{DeliveryMessage, DeliveryState};
use crate::model::{Account, Event, Page, Photo, SigningSecret, Subscription, User, now};
use crate::ports::delivery::{DeliveryQueue, DeliveryStore};
use crate::ports::{
    AccountStore, EventStore, PhotoStore, Published, StoreError, SubscriptionStore, UserStore,
};
use serde::Deserialize;
use serde_json::{Value, json};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;
/// How long a rotated-out secret keeps signing beside the new one.
pub const SECRET_OVERLAP_SECONDS: i64 = 24 * 3600;
/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_SECONDS: i64 = 24 * 3600;
/// Conflicting concurrent likes retried before giving up with 503.
const LIKE_ATTEMPTS: usize = 20;

pub use crate::auth::Caller;

/// The API's use-cases over a store `S` (all ports) and a DNS resolver `R`.
pub struct Api<S, R, Q> {
    pub store: S,
    pub resolver: R,
    /// Where resends go (the delivery queue), where a function has one.
    pub queue: Option<Q>,
    pub targets: TargetPolicy,
    /// The deployment's admin key; `None` disables the admin routes.
    pub admin_key: Option<String>,
}

// ------------------------------------------------------------------------------------ inputs

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {
    pub subscription_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: Value,
}

/// `?limit=&cursor=` of a listing.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: usize,
    pub cursor: Option<String>,
}

impl PageRequest {
    /// # Errors
    /// `limit` is not a whole number in 1..=100.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> ApiResult<Self> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => {
                    return Err(ApiError::invalid(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_PAGE}"),
                    ));
                }
            },
        };
        Ok(Self {
            limit,
            cursor: cursor.map(str::to_owned),
        })
    }
}

// ------------------------------------------------------------------------------------ rules

fn check_username(username: &str, errors: &mut Vec<FieldError>) {
    let length = username.chars().count();
    let allowed = username
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !(3..=50).contains(&length) || !allowed {
        errors.push(FieldError::new(
            "username",
            "must be 3 to 50 characters of A-Z, a-z, 0-9, _ . -",
        ));
    }
}

fn check_password(password: &str, errors: &mut Vec<FieldError>) {
    if !(6..=128).contains(&password.chars().count()) {
        errors.push(FieldError::new("password", "must be 6 to 128 characters"));
    }
}

/// Photo ids come from the customer's own system: 1–100 characters of `[A-Za-z0-9_.-]`.
fn check_photo_id(photo_id: &str) -> ApiResult<()> {
    let allowed = photo_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if (1..=100).contains(&photo_id.len()) && allowed {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "photo_id",
            "must be 1 to 100 characters of A-Z, a-z, 0-9, _ . -",
        ))
    }
}

fn check_event_types(filters: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if filters.is_empty() || filters.len() > 50 {
        errors.push(FieldError::new(
            "event_types",
            "must list 1 to 50 event types",
        ));
    }
    for (index, filter) in filters.iter().enumerate() {
        if !event_type::is_filter(filter) {
            errors.push(FieldError::new(
                format!("event_types[{index}]"),
                "must be noun.verb (lowercase a-z, 0-9, _), noun.* or *",
            ));
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for filter in filters {
        if !unique.contains(filter) {
            unique.push(filter.clone());
        }
    }
    unique
}

fn check_description(description: Option<&String>, errors: &mut Vec<FieldError>) {
    if description.is_some_and(|d| d.chars().count() > 500) {
        errors.push(FieldError::new(
            "description",
            "must be at most 500 characters",
        ));
    }
}

fn finish(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn event(account: &str, event_type: &str, data: Value) -> Event {
    Event {
        id: new_id(IdKind::Event),
        account_id: account.to_owned(),
        event_type: event_type.to_owned(),
        created_at: now(),
        data,
        subscription_id: None,
    }
}

fn page_json<T>(page: &Page<T>, show: impl Fn(&T) -> Value) -> Value {
    json!({ "data": page.items.iter().map(show).collect::<Vec<_>>(), "next_cursor": page.next_cursor })
}

fn password_hash(password: &str) -> ApiResult<String> {
    secrets::hash_password(password).map_err(|e| ApiError::Internal(e.to_string()))
}

impl<S, R, Q> Api<S, R, Q>
where
    S: AccountStore + UserStore + PhotoStore + SubscriptionStore + EventStore + DeliveryStore,
    R: Resolver,
    Q: DeliveryQueue,
{
    // ---------------------------------------------------------------- auth and accounts

    /// Who an `Authorization` header belongs to ([`crate::auth::authenticate`]).
    ///
    /// # Errors
    /// `Unauthorized` when it is missing, not `Bearer`, or matches no key.
    pub async fn authenticate(&self, authorization: Option<&str>) -> ApiResult<Caller> {
        crate::auth::authenticate(&self.store, self.admin_key.as_deref(), authorization).await
    }

    /// The caller of a request: the one API Gateway's authorizer vouched for, else (a direct
    /// invocation) the one its `Authorization` header names.
    ///
    /// # Errors
    /// As [`Api::authenticate`] when nothing vouched for the caller.
    pub async fn identify(
        &self,
        vouched: Option<Caller>,
        authorization: Option<&str>,
    ) -> ApiResult<Caller> {
        match vouched {
            Some(caller) => Ok(caller),
            None => self.authenticate(authorization).await,
        }
    }

    /// Creates an account; returns it with its API key (the only time the key is shown).
    ///
    /// # Errors
    /// Invalid name; storage failure.
    pub async fn create_account(&self, input: NewAccount) -> ApiResult<Value> {
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ApiError::invalid("name", "must be 1 to 100 characters"));
        }
        let account = Account {
            id: new_id(IdKind::Account),
            name,
            created_at: now(),
        };
        let key = secrets::new_api_key();
        self.store
            .create_account(&account, &secrets::api_key_hash(&key))
            .await?;
        Ok(
            json!({"id": account.id, "name": account.name, "created_at": account.created_at, "api_key": key}),
        )
    }

    // ---------------------------------------------------------------- users

    /// # Errors
    /// Invalid input; username taken (409); storage failure.
    pub async fn create_user(&self, account: &str, input: NewUser) -> ApiResult<Value> {
        let mut errors = Vec::new();
        check_username(&input.username, &mut errors);
        check_password(&input.password, &mut errors);
        finish(errors)?;
        let at = now();
        let user = User {
            id: new_id(IdKind::User),
            username: input.username,
            password_hash: password_hash(&input.password)?,
            created_at: at.clone(),
            updated_at: at,
        };
        let created = event(account, "user.created", user.representation());
        match self.store.create_user(&user, account, &created).await {
            Err(StoreError::Conflict) => Err(ApiError::Conflict(format!(
                "username {} is taken",
                user.username
            ))),
            other => other.map_err(ApiError::from),
        }?;
        Ok(user.representation())
    }

    async fn user(&self, account: &str, id: &str) -> ApiResult<User> {
        self.store
            .get_user(account, id)
            .await?
            .ok_or(ApiError::NotFound("user"))
    }

    /// # Errors
    /// No such user in the account.
    pub async fn get_user(&self, account: &str, id: &str) -> ApiResult<Value> {
        Ok(self.user(account, id).await?.representation())
    }

    /// # Errors
    /// Bad cursor; storage failure.
    pub async fn list_users(&self, account: &str, page: PageRequest) -> ApiResult<Value> {
        let users = self
            .store
            .list_users(account, page.limit, page.cursor.as_deref())
            .await?;
        Ok(page_json(&users, User::representation))
    }

    /// # Errors
    /// Invalid input; no such user; username taken or concurrent change (409).
    pub async fn update_user(
        &self,
        account: &str,
        id: &str,
        changes: UserChanges,
    ) -> ApiResult<Value> {
        let mut errors = Vec::new();
        if changes.username.is_none() && changes.password.is_none() {
            errors.push(FieldError::new("body", "give username, password or both"));
        }
        if let Some(username) = &changes.username {
            check_username(username, &mut errors);
        }
        if let Some(password) = &changes.password {
            check_password(password, &mut errors);
        }
        finish(errors)?;
        let previous = self.user(account, id).await?;
        let mut updated = previous.clone();
        if let Some(username) = changes.username {
            updated.username = username;
        }
        if let Some(password) = &changes.password {
            updated.password_hash = password_hash(password)?;
        }
        updated.updated_at = now();
        let changed = event(account, "user.updated", updated.representation());
        match self
            .store
            .update_user(account, &previous, &updated, &changed)
            .await
        {
            Ok(()) => Ok(updated.representation()),
            Err(StoreError::NotFound) => Err(ApiError::NotFound("user")),
            Err(StoreError::Conflict) => Err(ApiError::Conflict(
                "the username is taken, or the user changed meanwhile; fetch it and retry".into(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// # Errors
    /// No such user; storage failure.
    pub async fn delete_user(&self, account: &str, id: &str) -> ApiResult<()> {
        let user = self.user(account, id).await?;
        let deleted = event(account, "user.deleted", user.representation());
        match self.store.delete_user(account, &user, &deleted).await {
            Err(StoreError::NotFound) => Err(ApiError::NotFound("user")),
            other => other.map_err(ApiError::from),
        }
    }

    // ---------------------------------------------------------------- photos

    /// Adds a like and emits `photo.liked`, atomically; retries when likes race.
    ///
    /// # Errors
    /// Invalid photo id; storage failure; too much contention (503).
    pub async fn like_photo(&self, account: &str, photo_id: &str) -> ApiResult<Value> {
        check_photo_id(photo_id)?;
        for _ in 0..LIKE_ATTEMPTS {
            let current = self
                .store
                .get_photo(account, photo_id)
                .await?
                .map_or(0, |p| p.likes);
            let likes = current + 1;
            let liked = event(
                account,
                "photo.liked",
                json!({"photo_id": photo_id, "likes": likes, "liked_at": now()}),
            );
            match self
                .store
                .like_photo(account, photo_id, current, &liked)
                .await
            {
                Ok(()) => {
                    return Ok(json!({"photo_id": photo_id, "likes": likes, "event_id": liked.id}));
                }
                Err(StoreError::Conflict | StoreError::Throttled) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Err(ApiError::Unavailable)
    }

    /// # Errors
    /// A photo never liked in this account is not found.
    pub async fn get_photo(&self, account: &str, photo_id: &str) -> ApiResult<Value> {
        check_photo_id(photo_id)?;
        let Photo { photo_id, likes } = self
            .store
            .get_photo(account, photo_id)
            .await?
            .ok_or(ApiError::NotFound("photo"))?;
        Ok(json!({"photo_id": photo_id, "likes": likes}))
    }

    // ---------------------------------------------------------------- subscriptions

    async fn check_url(&self, url: &str, errors: &mut Vec<FieldError>) {
        if let Err(error) = self.targets.check(url, &self.resolver).await {
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
        account: &str,
        input: NewSubscription,
    ) -> ApiResult<Value> {
        let mut errors = Vec::new();
        self.check_url(&input.url, &mut errors).await;
        let event_types = check_event_types(&input.event_types, &mut errors);
        check_description(input.description.as_ref(), &mut errors);
        finish(errors)?;
        let at = now();
        let secret = secrets::new_webhook_secret();
        let subscription = Subscription {
            id: new_id(IdKind::Subscription),
            account_id: account.to_owned(),
            url: input.url,
            event_types,
            description: input.description,
            active: input.active.unwrap_or(true),
            secrets: vec![SigningSecret {
                secret: secret.clone(),
                created_at: at.clone(),
                expires_at: None,
            }],
            disabled_reason: None,
            created_at: at.clone(),
            updated_at: at,
        };
        self.store.create_subscription(&subscription).await?;
        let mut body = subscription.representation();
        body["secret"] = Value::String(secret);
        Ok(body)
    }

    async fn subscription(&self, account: &str, id: &str) -> ApiResult<Subscription> {
        self.store
            .get_subscription(account, id)
            .await?
            .ok_or(ApiError::NotFound("subscription"))
    }

    /// # Errors
    /// No such subscription.
    pub async fn get_subscription(&self, account: &str, id: &str) -> ApiResult<Value> {
        Ok(self.subscription(account, id).await?.representation())
    }

    /// Lists subscriptions; with `event_type`, only those whose filters match it.
    ///
    /// # Errors
    /// Invalid event type; bad cursor; storage failure.
    pub async fn list_subscriptions(
        &self,
        account: &str,
        event_type: Option<&str>,
        page: PageRequest,
    ) -> ApiResult<Value> {
        if event_type.is_some_and(|t| !event_type::is_event_type(t)) {
            return Err(ApiError::invalid("event_type", "must be noun.verb"));
        }
        let found = self
            .store
            .list_subscriptions(account, event_type, page.limit, page.cursor.as_deref())
            .await?;
        Ok(page_json(&found, Subscription::representation))
    }

    /// # Errors
    /// Invalid input; no such subscription; concurrent change (409).
    pub async fn update_subscription(
        &self,
        account: &str,
        id: &str,
        changes: SubscriptionChanges,
    ) -> ApiResult<Value> {
        let mut errors = Vec::new();
        if let Some(url) = &changes.url {
            self.check_url(url, &mut errors).await;
        }
        let event_types = changes
            .event_types
            .as_ref()
            .map(|filters| check_event_types(filters, &mut errors));
        check_description(changes.description.as_ref(), &mut errors);
        finish(errors)?;
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
        if let Some(active) = changes.active {
            updated.active = active;
            if active {
                updated.disabled_reason = None;
            }
        }
        updated.updated_at = now();
        self.save_subscription(&updated, &previous.updated_at)
            .await?;
        Ok(updated.representation())
    }

    async fn save_subscription(
        &self,
        subscription: &Subscription,
        expected_updated_at: &str,
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
    pub async fn delete_subscription(&self, account: &str, id: &str) -> ApiResult<()> {
        match self.store.delete_subscription(account, id).await {
            Err(StoreError::NotFound) => Err(ApiError::NotFound("subscription")),
            other => other.map_err(ApiError::from),
        }
    }

    /// The current signing secret (and when the previous one stops signing, during an overlap).
    ///
    /// # Errors
    /// No such subscription.
    pub async fn get_secret(&self, account: &str, id: &str) -> ApiResult<Value> {
        let subscription = self.subscription(account, id).await?;
        let previous_expires_at = subscription
            .secrets
            .get(1)
            .and_then(|s| s.expires_at.clone());
        Ok(
            json!({"secret": subscription.current_secret(), "previous_secret_expires_at": previous_expires_at}),
        )
    }

    /// A new secret; the previous one keeps signing beside it for 24 hours. Secrets already
    /// expired are dropped.
    ///
    /// # Errors
    /// No such subscription; concurrent change (409).
    pub async fn rotate_secret(&self, account: &str, id: &str) -> ApiResult<Value> {
        let previous = self.subscription(account, id).await?;
        let at = chrono::Utc::now();
        let overlap_until = (at + chrono::Duration::seconds(SECRET_OVERLAP_SECONDS))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let secret = secrets::new_webhook_secret();
        let mut updated = previous.clone();
        let mut kept: Vec<SigningSecret> = previous
            .secrets
            .iter()
            .take(1)
            .map(|s| SigningSecret {
                expires_at: Some(overlap_until.clone()),
                ..s.clone()
            })
            .collect();
        updated.secrets = vec![SigningSecret {
            secret: secret.clone(),
            created_at: stamp.clone(),
            expires_at: None,
        }];
        updated.secrets.append(&mut kept);
        updated.updated_at = stamp;
        self.save_subscription(&updated, &previous.updated_at)
            .await?;
        Ok(json!({"secret": secret, "previous_secret_expires_at": overlap_until}))
    }

    /// Sends a `webhook.test` event to this subscription only.
    ///
    /// # Errors
    /// No such subscription; storage failure.
    pub async fn test_subscription(&self, account: &str, id: &str) -> ApiResult<Value> {
        let subscription = self.subscription(account, id).await?;
        let mut test = event(
            account,
            "webhook.test",
            json!({"subscription_id": subscription.id, "message": "This is a test event."}),
        );
        test.subscription_id = Some(subscription.id);
        self.store.publish(&test, None).await?;
        Ok(json!({"id": test.id, "type": test.event_type, "created_at": test.created_at}))
    }

    // ---------------------------------------------------------------- events

    /// Publishes a custom event. With an idempotency key used in the last 24 hours, returns the
    /// event it made and creates nothing; the flag says which happened.
    ///
    /// # Errors
    /// Invalid type, payload or key; storage failure.
    pub async fn publish_event(
        &self,
        account: &str,
        input: NewEvent,
        idempotency_key: Option<&str>,
    ) -> ApiResult<(Value, bool)> {
        let mut errors = Vec::new();
        if !event_type::is_event_type(&input.event_type) {
            errors.push(FieldError::new(
                "type",
                "must be noun.verb (lowercase a-z, 0-9, _)",
            ));
        } else if input.event_type.starts_with("webhook.") {
            errors.push(FieldError::new("type", "the webhook.* types are reserved"));
        }
        if !input.payload.is_object() {
            errors.push(FieldError::new("payload", "must be a JSON object"));
        }
        if let Some(key) = idempotency_key
            && (key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            errors.push(FieldError::new(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            ));
        }
        finish(errors)?;
        let published = event(account, &input.event_type, input.payload);
        let key =
            idempotency_key.map(|k| (k, chrono::Utc::now().timestamp() + IDEMPOTENCY_SECONDS));
        match self.store.publish(&published, key).await? {
            Published::Created => Ok((
                json!({"id": published.id, "type": published.event_type, "created_at": published.created_at}),
                false,
            )),
            Published::Existing(id) => {
                let first = self
                    .store
                    .get_event(account, &id)
                    .await?
                    .ok_or(ApiError::NotFound("event"))?;
                Ok((
                    json!({"id": first.id, "type": first.event_type, "created_at": first.created_at}),
                    true,
                ))
            }
        }
    }

    /// # Errors
    /// No such event in the account.
    pub async fn get_event(&self, account: &str, id: &str) -> ApiResult<Value> {
        let found = self
            .store
            .get_event(account, id)
            .await?
            .ok_or(ApiError::NotFound("event"))?;
        let mut body = found.representation();
        body["deliveries"] = Value::Array(self.deliveries(&found).await?);
        Ok(body)
    }

    /// Per subscription: the recorded status, or `pending` for a subscription the event goes to
    /// that has no attempt yet.
    async fn deliveries(&self, event: &Event) -> ApiResult<Vec<Value>> {
        let recorded = self
            .store
            .deliveries_of_event(&event.account_id, &event.id)
            .await?;
        let mut out: Vec<Value> = recorded
            .iter()
            .map(|d| {
                json!({
                    "subscription_id": d.subscription_id,
                    "status": d.status,
                    "attempts": d.attempts,
                    "updated_at": d.updated_at,
                    "next_attempt_at": d.next_attempt_at,
                })
            })
            .collect();
        let targets = match &event.subscription_id {
            Some(id) => self
                .store
                .get_subscription(&event.account_id, id)
                .await?
                .into_iter()
                .collect(),
            None => {
                self.store
                    .matching_subscriptions(&event.account_id, &event.event_type)
                    .await?
            }
        };
        for subscription in targets.iter().filter(|s| s.active) {
            if !recorded
                .iter()
                .any(|d| d.subscription_id == subscription.id)
            {
                out.push(json!({"subscription_id": subscription.id, "status": DeliveryState::Pending, "attempts": 0}));
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
        account: &str,
        id: &str,
        input: Option<ResendRequest>,
    ) -> ApiResult<Value> {
        let event = self
            .store
            .get_event(account, id)
            .await?
            .ok_or(ApiError::NotFound("event"))?;
        let subscriptions: Vec<Subscription> = match input.and_then(|i| i.subscription_id) {
            Some(subscription) => vec![self.subscription(account, &subscription).await?],
            None => match &event.subscription_id {
                Some(only) => self
                    .store
                    .get_subscription(account, only)
                    .await?
                    .into_iter()
                    .collect(),
                None => {
                    self.store
                        .matching_subscriptions(account, &event.event_type)
                        .await?
                }
            },
        };
        let messages: Vec<DeliveryMessage> = subscriptions
            .iter()
            .filter(|s| s.active)
            .map(|s| DeliveryMessage::new(account, &event.id, &s.id, true))
            .collect();
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| ApiError::Internal("resend needs DELIVERY_QUEUE_URL".into()))?;
        queue
            .send(&messages)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(
            json!({"event_id": event.id, "queued": messages.iter().map(|m| &m.subscription_id).collect::<Vec<_>>()}),
        )
    }

    /// Moves dead-lettered deliveries back onto the delivery queue (admin).
    ///
    /// # Errors
    /// No queue in this function; queue failure.
    pub async fn redrive_dead_letters(&self) -> ApiResult<Value> {
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| ApiError::Internal("redrive needs DELIVERY_QUEUE_URL".into()))?;
        let done = queue
            .redrive(10_000)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(json!({"method": done.method, "messages": done.messages}))
    }

    /// A subscription's delivery attempts, newest first.
    ///
    /// # Errors
    /// No such subscription; bad cursor.
    pub async fn list_attempts(
        &self,
        account: &str,
        id: &str,
        page: PageRequest,
    ) -> ApiResult<Value> {
        self.subscription(account, id).await?;
        let found = self
            .store
            .attempts_of_subscription(account, id, page.limit, page.cursor.as_deref())
            .await?;
        Ok(page_json(&found, |a| {
            serde_json::to_value(a).unwrap_or(Value::Null)
        }))
    }

    /// Newest first.
    ///
    /// # Errors
    /// Invalid type filter; bad cursor; storage failure.
    pub async fn list_events(
        &self,
        account: &str,
        event_type: Option<&str>,
        page: PageRequest,
    ) -> ApiResult<Value> {
        if event_type.is_some_and(|t| !event_type::is_event_type(t)) {
            return Err(ApiError::invalid("type", "must be noun.verb"));
        }
        let found = self
            .store
            .list_events(account, event_type, page.limit, page.cursor.as_deref())
            .await?;
        Ok(page_json(&found, Event::representation))
    }
}
