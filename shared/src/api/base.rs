//! The [`Api`] every use-case is a method of, and what the use-cases share: paging, the 422
//! of invalid fields, type filters, new events.

use crate::api::error::{ApiError, ApiResult, FieldError};
use crate::domain::target::TargetPolicy;
use crate::model::{AccountId, EventId};
use crate::model::{Event, now};
use serde::Serialize;

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// The API's use-cases over a store `S` (all ports) and a DNS resolver `R`.
pub struct Api<S, R, Q> {
    pub store: S,
    pub resolver: R,
    /// Where resends go (the delivery queue), where a function has one.
    pub queue: Option<Q>,
    pub targets: TargetPolicy,
    /// The deployment's admin key; `AdminKey::None` disables the admin routes.
    pub admin_key: super::admin_key::AdminKey,
    /// When this container last noted each API key's use.
    pub key_uses: crate::domain::throttle::Throttle<crate::model::ApiKeyId>,
}

/// How often a container notes an API key's use.
pub const KEY_USE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

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

/// A listing's `?{parameter}=` event-type filter, when given, must be an event type.
///
/// # Errors
/// It is not `noun.verb` (422).
pub(crate) fn check_type_filter(parameter: &str, event_type: Option<&str>) -> ApiResult<()> {
    match event_type {
        Some(t) if !crate::domain::event_type::is_event_type(t) => Err(ApiError::invalid(
            parameter,
            crate::domain::event_type::EVENT_TYPE_RULE,
        )),
        _ => Ok(()),
    }
}

/// `Ok` when no field is invalid, else the 422 that lists them all.
///
/// # Errors
/// Some `errors`.
pub(crate) fn reject_invalid(errors: Vec<FieldError>) -> ApiResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A new event of the account, of `event_type`, carrying `data` as its `data`.
///
/// # Errors
/// `data` does not serialise (cannot happen for the API's own payload types).
pub(crate) fn new_event(
    account: &AccountId,
    event_type: &str,
    data: &impl Serialize,
) -> ApiResult<Event> {
    Ok(Event {
        id: EventId::new(),
        account_id: account.to_owned(),
        event_type: event_type.to_owned(),
        created_at: now(),
        data: serde_json::to_value(data).map_err(|e| ApiError::Internal(e.to_string()))?,
        subscription_id: None,
    })
}
