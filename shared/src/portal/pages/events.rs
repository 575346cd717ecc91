//! The event log (by type and delivery status, newest first, a page at a time), one event with
//! its deliveries and attempts, and resending it.

use super::super::context::Ctx;
use super::super::error::PortalResult;
use super::super::form::Form;
use super::super::response::{html, see_other};
use super::super::views::{AttemptRow, Choice, Endpoints, EventPage, EventRow, EventsPage};
use crate::api::Api;
use crate::api::error::ApiError;
use crate::api::portal_views::StatusFilter;
use crate::api::wire::ResendRequest;
use crate::model::{EventId, SubscriptionId};
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use askama::Template;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

/// The status filter's options: value, label.
const STATUSES: [(&str, &str); 4] = [
    ("", "Any status"),
    ("failed", "Failed"),
    ("pending", "Pending or retrying"),
    ("delivered", "Delivered"),
];

pub async fn log<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
) -> PortalResult<Response<Body>> {
    let query = |name| crate::http::query(ctx.request, name).filter(|v| !v.is_empty());
    let event_type = query("type");
    let status_text = query("status");
    let status =
        match status_text.as_deref() {
            None => None,
            Some(text) => Some(StatusFilter::parse(text).ok_or_else(|| {
                ApiError::invalid("status", "must be failed, pending or delivered")
            })?),
        };
    let log = ctx
        .api
        .portal_events(ctx.grant(), event_type.as_deref(), status, query("cursor"))
        .await?;
    let catalog = ctx.catalog().await?;
    let endpoints = Endpoints::of(&ctx.api.portal_endpoints(ctx.grant()).await?);
    let next_page = log.next_cursor.map(|cursor| {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        if let Some(t) = &event_type {
            next.append_pair("type", t);
        }
        if let Some(s) = &status_text {
            next.append_pair("status", s);
        }
        next.append_pair("cursor", &cursor);
        format!("/portal/events?{}", next.finish())
    });
    let page = EventsPage {
        chrome: Some(ctx.chrome()),
        notice: ctx.notice(),
        types: catalog
            .iter()
            .map(|t| Choice {
                name: t.event_type.clone(),
                description: None,
                checked: event_type.as_deref() == Some(t.event_type.as_str()),
            })
            .collect(),
        statuses: STATUSES
            .iter()
            .map(|(value, label)| {
                (
                    *value,
                    status_text.as_deref().unwrap_or("") == *value,
                    *label,
                )
            })
            .collect(),
        events: log
            .events
            .iter()
            .map(|e| EventRow::new(e, &endpoints))
            .collect(),
        next_page,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

pub async fn show<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &EventId,
) -> PortalResult<Response<Body>> {
    let event = ctx.api.portal_event(ctx.grant(), id).await?;
    let attempts = ctx.api.portal_event_attempts(ctx.grant(), id).await?;
    let endpoints = Endpoints::of(&ctx.api.portal_endpoints(ctx.grant()).await?);
    let page = EventPage {
        chrome: Some(ctx.chrome()),
        notice: ctx.notice(),
        csrf: ctx.csrf(),
        event: EventRow::new(&event, &endpoints),
        attempts: attempts
            .iter()
            .map(|a| AttemptRow::new(a, &endpoints))
            .collect(),
        endpoint_page: false,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

/// Resends the event to one endpoint the grant covers.
pub async fn resend<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &EventId,
    form: &Form,
) -> PortalResult<Response<Body>> {
    let subscription = SubscriptionId::parse(form.get("subscription_id"))
        .ok_or(ApiError::NotFound("subscription"))?;
    Api::<S, R, Q>::portal_covers(ctx.grant(), &subscription)?;
    // The event must be one the grant sees.
    ctx.api.portal_event(ctx.grant(), id).await?;
    let input = ResendRequest {
        subscription_id: Some(subscription.to_string()),
    };
    ctx.api.resend_event(ctx.account(), id, Some(input)).await?;
    Ok(see_other(&format!("/portal/events/{id}?done=resent")))
}
