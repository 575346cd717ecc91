//! The portal's pages as askama templates (`shared/templates/portal/`), checked when the crate
//! compiles, every value HTML-escaped unless a template says otherwise (none does), and the
//! records they show turned into display text.

use super::chart::Chart;
use crate::api::wire::{DeliveryOut, EventWithDeliveries, SubscriptionOut};
use crate::model::delivery::Attempt;
use crate::model::{SubscriptionId, Timestamp};
use askama::Template;

/// What every signed-in page has: the sign-out form's CSRF token.
pub struct Chrome {
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "portal/message.html")]
pub struct MessagePage<'a> {
    pub chrome: Option<Chrome>,
    pub notice: Option<&'a str>,
    pub heading: &'a str,
    pub detail: &'a str,
    /// A link's token, for the form that opens it.
    pub login_token: Option<&'a str>,
}

/// A row of the endpoint list.
pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub status: &'static str,
    pub success_rate: String,
}

#[derive(Template)]
#[template(path = "portal/endpoints.html")]
pub struct EndpointsPage<'a> {
    pub chrome: Option<Chrome>,
    pub notice: Option<&'a str>,
    pub chart: Chart,
    pub can_create: bool,
    pub endpoints: Vec<EndpointRow>,
}

/// An event type to pick (or a filter option), and whether it is picked.
pub struct Choice {
    pub name: String,
    pub description: Option<&'static str>,
    pub checked: bool,
}

/// The values of an endpoint form, as shown again after an error.
pub struct EndpointForm {
    pub url: String,
    pub description: String,
    pub catalog: Vec<Choice>,
    pub other_types: String,
}

#[derive(Template)]
#[template(path = "portal/endpoint_new.html")]
pub struct NewEndpointPage<'a> {
    pub chrome: Option<Chrome>,
    pub notice: Option<&'a str>,
    pub csrf: &'a str,
    pub form: EndpointForm,
    pub errors: Vec<String>,
}

/// An attempt, as the attempt tables show it.
pub struct AttemptRow {
    pub attempted_at: String,
    pub event_id: String,
    pub subscription_id: String,
    /// The endpoint's URL (its id when it is gone).
    pub endpoint: String,
    pub attempt: u32,
    pub outcome: &'static str,
    pub status: String,
    pub duration_ms: u64,
    pub next_attempt_at: String,
    /// The receiver's answer (hostile input: escaped like everything else).
    pub response: String,
}

impl AttemptRow {
    #[must_use]
    pub fn new(a: &Attempt, endpoints: &Endpoints) -> Self {
        Self {
            attempted_at: a.attempted_at.to_string(),
            event_id: a.event_id.to_string(),
            subscription_id: a.subscription_id.to_string(),
            endpoint: endpoints.name(&a.subscription_id),
            attempt: a.attempt,
            outcome: a.outcome.as_str(),
            status: match (a.status_code, &a.error) {
                (Some(code), _) => code.to_string(),
                (None, Some(error)) => error.clone(),
                (None, None) => String::new(),
            },
            duration_ms: a.duration_ms,
            next_attempt_at: when(a.next_attempt_at),
            response: a.response_body.clone().unwrap_or_default(),
        }
    }
}

/// An endpoint as its page shows it.
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub status: &'static str,
    pub disabled_reason: Option<String>,
    pub active: bool,
}

impl From<&SubscriptionOut> for EndpointView {
    fn from(s: &SubscriptionOut) -> Self {
        Self {
            id: s.id.to_string(),
            url: s.url.clone(),
            status: s.status,
            disabled_reason: s.disabled_reason.clone(),
            active: s.active,
        }
    }
}

#[derive(Template)]
#[template(path = "portal/endpoint.html")]
pub struct EndpointPage<'a> {
    pub chrome: Option<Chrome>,
    pub notice: Option<&'a str>,
    pub csrf: &'a str,
    pub endpoint: EndpointView,
    pub secret: Option<String>,
    pub form: EndpointForm,
    pub errors: Vec<String>,
    pub attempts: Vec<AttemptRow>,
    /// The attempt table names events (not endpoints).
    pub endpoint_page: bool,
}

/// A delivery, as the event pages show it.
pub struct DeliveryRow {
    pub subscription_id: String,
    /// The endpoint's URL (its id when it is gone).
    pub endpoint: String,
    pub status: &'static str,
    pub attempts: u32,
    pub updated_at: String,
    pub next_attempt_at: String,
}

impl DeliveryRow {
    #[must_use]
    pub fn new(d: &DeliveryOut, endpoints: &Endpoints) -> Self {
        Self {
            subscription_id: d.subscription_id.to_string(),
            endpoint: endpoints.name(&d.subscription_id),
            status: d.status.as_str(),
            attempts: d.attempts,
            updated_at: when(d.updated_at),
            next_attempt_at: when(d.next_attempt_at),
        }
    }
}

/// An event, as the event pages show it.
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub created_at: String,
    pub payload: String,
    pub deliveries: Vec<DeliveryRow>,
}

impl EventRow {
    #[must_use]
    pub fn new(e: &EventWithDeliveries, endpoints: &Endpoints) -> Self {
        Self {
            id: e.event.id.to_string(),
            event_type: e.event.event_type.clone(),
            created_at: e.event.created_at.to_string(),
            payload: serde_json::to_string_pretty(&e.event.data).unwrap_or_default(),
            deliveries: e
                .deliveries
                .iter()
                .map(|d| DeliveryRow::new(d, endpoints))
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "portal/events.html")]
pub struct EventsPage<'a> {
    pub chrome: Option<Chrome>,
    pub notice: Option<&'a str>,
    pub types: Vec<Choice>,
    /// Value, selected, label.
    pub statuses: Vec<(&'static str, bool, &'static str)>,
    pub events: Vec<EventRow>,
    pub next_page: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/event.html")]
pub struct EventPage<'a> {
    pub chrome: Option<Chrome>,
    pub notice: Option<&'a str>,
    pub csrf: &'a str,
    pub event: EventRow,
    pub attempts: Vec<AttemptRow>,
    /// The attempt table names endpoints (not events).
    pub endpoint_page: bool,
}

/// The endpoints a page names, by id: shown by URL.
#[derive(Default)]
pub struct Endpoints(std::collections::BTreeMap<SubscriptionId, String>);

impl Endpoints {
    #[must_use]
    pub fn of(endpoints: &[SubscriptionOut]) -> Self {
        Self(endpoints.iter().map(|e| (e.id, e.url.clone())).collect())
    }

    /// The endpoint's URL; its id when it is not (or no longer) one of them.
    #[must_use]
    pub fn name(&self, id: &SubscriptionId) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_string())
    }
}

/// A time, or nothing.
fn when(at: Option<Timestamp>) -> String {
    at.map(|t| t.to_string()).unwrap_or_default()
}
