//! Endpoints: the list with the day's activity, one endpoint's page (settings, secret, test,
//! replay, attempts), and their forms. A grant limited to some endpoints sees and changes only
//! those, and cannot create more.

use super::super::chart::chart;
use super::super::context::Ctx;
use super::super::error::PortalResult;
use super::super::form::Form;
use super::super::response::{html, see_other};
use super::super::views::{
    AttemptRow, Choice, EndpointForm, EndpointPage, EndpointRow, EndpointView, Endpoints,
    EndpointsPage, NewEndpointPage,
};
use crate::api::error::ApiError;
use crate::api::wire::{
    EventTypeFilter, NewSubscription, ReplayRequest, SubscriptionChanges, SubscriptionOut,
};
use crate::api::{Api, PageRequest};
use crate::model::SubscriptionId;
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use askama::Template;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

/// Attempts an endpoint's page lists.
const ATTEMPTS_SHOWN: usize = 20;

pub async fn list<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
) -> PortalResult<Response<Body>> {
    let endpoints = ctx.api.portal_endpoints(ctx.grant()).await?;
    let activity = ctx.api.portal_activity(ctx.grant()).await?;
    let rows = endpoints
        .iter()
        .map(|e| EndpointRow {
            id: e.id.to_string(),
            url: e.url.clone(),
            description: e.description.clone().unwrap_or_default(),
            event_types: e.event_types.join(", "),
            status: e.status,
            success_rate: activity
                .success_rates
                .get(&e.id)
                .map_or_else(|| "no attempts".to_owned(), |rate| format!("{rate} %")),
        })
        .collect();
    let page = EndpointsPage {
        chrome: Some(ctx.chrome()),
        notice: ctx.notice(),
        chart: chart(&activity.hours),
        can_create: ctx.grant().is_whole_account(),
        endpoints: rows,
    };
    Ok(html(StatusCode::OK, page.render()?))
}

pub async fn new<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
) -> PortalResult<Response<Body>> {
    whole_account(ctx)?;
    let form = endpoint_form(ctx, "", "", &[]).await?;
    render_new(ctx, form, Vec::new(), StatusCode::OK)
}

pub async fn create<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    form: &Form,
) -> PortalResult<Response<Body>> {
    whole_account(ctx)?;
    let input = NewSubscription {
        url: form.get("url").to_owned(),
        event_types: picked_types(form),
        description: non_empty(form.get("description")),
        active: None,
        verify: None,
        headers: None,
    };
    match ctx.api.create_subscription(ctx.account(), input).await {
        Ok(created) => Ok(see_other(&format!(
            "/portal/endpoints/{}?done=created",
            created.subscription.id
        ))),
        Err(ApiError::Validation(errors)) => {
            let picked = picked_names(form);
            let form =
                endpoint_form(ctx, form.get("url"), form.get("description"), &picked).await?;
            let errors = errors.iter().map(|e| format!("{}: {}", e.field, e.message));
            render_new(
                ctx,
                form,
                errors.collect(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn show<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &SubscriptionId,
    secret: Option<String>,
) -> PortalResult<Response<Body>> {
    let endpoint = ctx.api.portal_endpoint(ctx.grant(), id).await?;
    let form = endpoint_form(
        ctx,
        &endpoint.url,
        endpoint.description.as_deref().unwrap_or_default(),
        &endpoint.event_types,
    )
    .await?;
    render_endpoint(ctx, &endpoint, secret, form, Vec::new(), StatusCode::OK).await
}

pub async fn update<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &SubscriptionId,
    form: &Form,
) -> PortalResult<Response<Body>> {
    let endpoint = ctx.api.portal_endpoint(ctx.grant(), id).await?;
    let changes = SubscriptionChanges {
        url: Some(form.get("url").to_owned()),
        event_types: Some(picked_types(form)),
        description: Some(form.get("description").to_owned()),
        active: Some(form.get("active") == "on"),
        headers: None,
    };
    match ctx
        .api
        .update_subscription(ctx.account(), id, changes)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/portal/endpoints/{id}?done=saved"))),
        Err(ApiError::Validation(errors)) => {
            let picked = picked_names(form);
            let shown =
                endpoint_form(ctx, form.get("url"), form.get("description"), &picked).await?;
            let errors = errors.iter().map(|e| format!("{}: {}", e.field, e.message));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_endpoint(ctx, &endpoint, None, shown, errors.collect(), status).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn delete<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &SubscriptionId,
) -> PortalResult<Response<Body>> {
    Api::<S, R, Q>::portal_covers(ctx.grant(), id)?;
    ctx.api.delete_subscription(ctx.account(), id).await?;
    Ok(see_other("/portal/endpoints?done=deleted"))
}

pub async fn reveal<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &SubscriptionId,
) -> PortalResult<Response<Body>> {
    Api::<S, R, Q>::portal_covers(ctx.grant(), id)?;
    let secret = ctx.api.get_secret(ctx.account(), id).await?;
    show(ctx, id, secret.secret).await
}

pub async fn rotate<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &SubscriptionId,
) -> PortalResult<Response<Body>> {
    Api::<S, R, Q>::portal_covers(ctx.grant(), id)?;
    ctx.api.rotate_secret(ctx.account(), id).await?;
    Ok(see_other(&format!("/portal/endpoints/{id}?done=rotated")))
}

pub async fn test<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &SubscriptionId,
) -> PortalResult<Response<Body>> {
    Api::<S, R, Q>::portal_covers(ctx.grant(), id)?;
    ctx.api.test_subscription(ctx.account(), id).await?;
    Ok(see_other(&format!("/portal/endpoints/{id}?done=test_sent")))
}

pub async fn replay<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    id: &SubscriptionId,
    form: &Form,
) -> PortalResult<Response<Body>> {
    Api::<S, R, Q>::portal_covers(ctx.grant(), id)?;
    let input = ReplayRequest {
        since: utc(form.get("since")),
        until: None,
    };
    ctx.api.replay(ctx.account(), id, input).await?;
    Ok(see_other(&format!("/portal/endpoints/{id}?done=replayed")))
}

/// A `datetime-local` value (`2026-12-04T10:30`, seconds optional) read as UTC; anything else
/// as given (the API says what is wrong with it).
fn utc(local: &str) -> String {
    match local.len() {
        16 => format!("{local}:00Z"),
        19 => format!("{local}Z"),
        _ => local.to_owned(),
    }
}

fn whole_account<S, R, Q>(ctx: &Ctx<'_, S, R, Q>) -> PortalResult<()> {
    if ctx.grant().is_whole_account() {
        Ok(())
    } else {
        Err(ApiError::NotFound("page").into())
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// The types and filters a form picked: its boxes, then its comma-separated others.
fn picked_names(form: &Form) -> Vec<String> {
    let mut picked: Vec<String> = form.all("event_type").map(str::to_owned).collect();
    picked.extend(
        form.get("other_types")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
    );
    picked
}

fn picked_types(form: &Form) -> Vec<EventTypeFilter> {
    picked_names(form)
        .into_iter()
        .map(EventTypeFilter)
        .collect()
}

/// The form's values, with the account's catalog of types to pick from.
async fn endpoint_form<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    url: &str,
    description: &str,
    picked: &[String],
) -> PortalResult<EndpointForm> {
    let catalog = ctx.catalog().await?;
    let names: Vec<&str> = catalog.iter().map(|t| t.event_type.as_str()).collect();
    Ok(EndpointForm {
        url: url.to_owned(),
        description: description.to_owned(),
        catalog: catalog
            .iter()
            .map(|t| Choice {
                name: t.event_type.clone(),
                description: t.description,
                checked: picked.contains(&t.event_type),
            })
            .collect(),
        other_types: picked
            .iter()
            .filter(|p| !names.contains(&p.as_str()))
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn render_new<S, R, Q>(
    ctx: &Ctx<'_, S, R, Q>,
    form: EndpointForm,
    errors: Vec<String>,
    status: StatusCode,
) -> PortalResult<Response<Body>> {
    let page = NewEndpointPage {
        chrome: Some(ctx.chrome()),
        notice: None,
        csrf: ctx.csrf(),
        form,
        errors,
    };
    Ok(html(status, page.render()?))
}

async fn render_endpoint<S: Stores, R: Resolver, Q: DeliveryQueue>(
    ctx: &Ctx<'_, S, R, Q>,
    endpoint: &SubscriptionOut,
    secret: Option<String>,
    form: EndpointForm,
    errors: Vec<String>,
    status: StatusCode,
) -> PortalResult<Response<Body>> {
    let page_request = PageRequest {
        limit: ATTEMPTS_SHOWN,
        cursor: None,
    };
    let attempts = ctx
        .api
        .list_attempts(ctx.account(), &endpoint.id, page_request)
        .await?;
    let page = EndpointPage {
        chrome: Some(ctx.chrome()),
        notice: ctx.notice(),
        csrf: ctx.csrf(),
        endpoint: EndpointView::from(endpoint),
        secret,
        form,
        errors,
        attempts: attempts
            .data
            .iter()
            .map(|a| AttemptRow::new(a, &Endpoints::default()))
            .collect(),
        endpoint_page: true,
    };
    Ok(html(status, page.render()?))
}
