//! Users: created, read, listed, renamed or re-passworded, deleted; each change with its event.

use super::base::{Api, PageRequest, new_event, reject_invalid};
use super::wire::{NewUser, PageOut, UserChanges, UserOut};
use crate::api::error::{ApiError, ApiResult, FieldError};
use crate::domain::{names, secrets, text};
use crate::model::{AccountId, UserId};
use crate::model::{User, now};
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use crate::ports::{StoreError, Stores};

fn check_username(username: &str, errors: &mut Vec<FieldError>) {
    if !names::is_plain_name(username, &names::USERNAME_LENGTHS) {
        errors.push(FieldError::new(
            "username",
            names::plain_name_rule(&names::USERNAME_LENGTHS),
        ));
    }
}

fn check_password(password: &str, errors: &mut Vec<FieldError>) {
    if let Err(rule) = text::check(password, &text::PASSWORD_LENGTHS) {
        errors.push(FieldError::new("password", rule));
    }
}

fn password_hash(password: &str) -> ApiResult<String> {
    secrets::hash_password(password).map_err(|e| ApiError::Internal(e.to_string()))
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// # Errors
    /// Invalid input; username taken (409); storage failure.
    pub async fn create_user(&self, account: &AccountId, input: NewUser) -> ApiResult<UserOut> {
        let mut errors = Vec::new();
        check_username(&input.username, &mut errors);
        check_password(&input.password, &mut errors);
        reject_invalid(errors)?;
        let at = now();
        let user = User {
            id: UserId::new(),
            username: input.username,
            password_hash: password_hash(&input.password)?,
            created_at: at,
            updated_at: at,
        };
        let shown = UserOut::from(&user);
        let created = new_event(account, "user.created", &shown)?;
        match self.store.create_user(&user, account, &created).await {
            Err(StoreError::Conflict) => Err(ApiError::Conflict(format!(
                "username {} is taken",
                user.username
            ))),
            other => other.map_err(ApiError::from),
        }?;
        Ok(shown)
    }

    async fn user(&self, account: &AccountId, id: &UserId) -> ApiResult<User> {
        self.store
            .get_user(account, id)
            .await?
            .ok_or(ApiError::NotFound("user"))
    }

    /// # Errors
    /// No such user in the account.
    pub async fn get_user(&self, account: &AccountId, id: &UserId) -> ApiResult<UserOut> {
        Ok(UserOut::from(&self.user(account, id).await?))
    }

    /// # Errors
    /// Bad cursor; storage failure.
    pub async fn list_users(
        &self,
        account: &AccountId,
        page: PageRequest,
    ) -> ApiResult<PageOut<UserOut>> {
        let users = self
            .store
            .list_users(account, page.limit, page.cursor.as_deref())
            .await?;
        Ok(PageOut::of(users, |user| UserOut::from(&user)))
    }

    /// # Errors
    /// Invalid input; no such user; username taken or concurrent change (409).
    pub async fn update_user(
        &self,
        account: &AccountId,
        id: &UserId,
        changes: UserChanges,
    ) -> ApiResult<UserOut> {
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
        reject_invalid(errors)?;
        let previous = self.user(account, id).await?;
        let mut updated = previous.clone();
        if let Some(username) = changes.username {
            updated.username = username;
        }
        if let Some(password) = &changes.password {
            updated.password_hash = password_hash(password)?;
        }
        updated.updated_at = now();
        let shown = UserOut::from(&updated);
        let changed = new_event(account, "user.updated", &shown)?;
        match self
            .store
            .update_user(account, &previous, &updated, &changed)
            .await
        {
            Ok(()) => Ok(shown),
            Err(StoreError::NotFound) => Err(ApiError::NotFound("user")),
            Err(StoreError::Conflict) => Err(ApiError::Conflict(
                "the username is taken, or the user changed meanwhile; fetch it and retry".into(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// # Errors
    /// No such user; storage failure.
    pub async fn delete_user(&self, account: &AccountId, id: &UserId) -> ApiResult<()> {
        let user = self.user(account, id).await?;
        let deleted = new_event(account, "user.deleted", &UserOut::from(&user))?;
        match self.store.delete_user(account, &user, &deleted).await {
            Err(StoreError::NotFound) => Err(ApiError::NotFound("user")),
            other => other.map_err(ApiError::from),
        }
    }
}
