//! The request and response bodies of the HTTP API, as Rust types. Requests deserialise
//! strictly (unknown fields are refused); responses serialise exactly these fields. The OpenAPI
//! document's schemas are derived from these types (`crate::http::openapi`), so the document
//! cannot drift from what the API reads and writes.

mod accounts;
mod event_types;
mod events;
mod photos;
mod portal;
mod replays;
mod sample_events;
mod subscriptions;
mod users;

pub use accounts::{
    AccountChanges, AccountOut, AccountWithKey, ApiKeyOut, ApiKeyWithSecret, NewAccount, NewApiKey,
};
pub use event_types::EventTypeOut;
pub use events::{
    DeliveryOut, EventAccepted, EventWithDeliveries, NewEvent, Redriven, ResendRequest, Resent,
};
pub use photos::{LikeOut, PhotoLiked, PhotoOut};
pub use portal::{NewPortalSession, PortalLinkOut};
pub use replays::{ReplayOut, ReplayRequest};
pub use sample_events::{SampleEventsOut, SampleEventsSettings};
pub use subscriptions::{
    EventTypeFilter, NewSubscription, SecretOut, SubscriptionChanges, SubscriptionOut,
    SubscriptionWithSecret, TestSent, VerificationSent, WebhookTest,
};
pub use users::{NewUser, UserChanges, UserOut};

use serde::Serialize;
use utoipa::ToSchema;

/// One page of a listing, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageOut<T> {
    pub data: Vec<T>,
    /// Pass back as `?cursor=` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl<T> PageOut<T> {
    /// A page of `items` shown as `T`.
    pub fn of<I>(page: crate::model::Page<I>, show: impl Fn(I) -> T) -> Self {
        Self {
            data: page.items.into_iter().map(show).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// What `GET /api/v1/health` answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the function answers.
    pub status: &'static str,
    /// `rusthook/<version>`.
    pub service: &'static str,
    /// The function that answered.
    pub function: &'static str,
}
