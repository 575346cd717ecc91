//! The portal's pages: which one a method and path ask for. API Gateway sends every path below
//! `/portal/` here ([`GATEWAY_ROUTE`]); the portal answers its own 404 and 405.

use crate::model::{EventId, SubscriptionId};

/// The API Gateway route (method and path) that sends the portal's paths to its function.
pub const GATEWAY_ROUTE: (&str, &str) = ("ANY", "/portal/{proxy+}");

/// A page or form of the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Stylesheet,
    Script,
    /// A sign-in link opened: the form that trades its token for a session.
    Login,
    OpenSession,
    SignOut,
    Endpoints,
    NewEndpoint,
    CreateEndpoint,
    Endpoint(SubscriptionId),
    UpdateEndpoint(SubscriptionId),
    DeleteEndpoint(SubscriptionId),
    RevealSecret(SubscriptionId),
    RotateSecret(SubscriptionId),
    TestEndpoint(SubscriptionId),
    ReplayEndpoint(SubscriptionId),
    Events,
    Event(EventId),
    Resend(EventId),
}

/// Why no page answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unrouted {
    NotFound,
    /// The path is a page; these are its methods.
    MethodNotAllowed(&'static [&'static str]),
}

impl Page {
    /// Whether the page needs a signed-in session.
    #[must_use]
    pub const fn needs_session(&self) -> bool {
        !matches!(
            self,
            Self::Stylesheet | Self::Script | Self::Login | Self::OpenSession
        )
    }
}

const GET: &[&str] = &["GET"];
const POST: &[&str] = &["POST"];
const GET_POST: &[&str] = &["GET", "POST"];

/// The page `method` and `path` ask for. An id that is not well formed names nothing (404).
///
/// # Errors
/// 404 for a path that is no page; 405 (with the page's methods) for another method.
pub fn page(method: &str, path: &str) -> Result<Page, Unrouted> {
    let parts: Vec<&str> = path
        .strip_prefix("/portal/")
        .ok_or(Unrouted::NotFound)?
        .split('/')
        .collect();
    let sub = |text: &str| SubscriptionId::parse(text).ok_or(Unrouted::NotFound);
    let event = |text: &str| EventId::parse(text).ok_or(Unrouted::NotFound);
    let (methods, found): (&'static [&'static str], Result<Page, Unrouted>) = match parts[..] {
        ["assets", "portal.css"] => (GET, Ok(Page::Stylesheet)),
        ["assets", "portal.js"] => (GET, Ok(Page::Script)),
        ["login"] => (
            GET_POST,
            Ok(if method == "POST" {
                Page::OpenSession
            } else {
                Page::Login
            }),
        ),
        ["logout"] => (POST, Ok(Page::SignOut)),
        ["endpoints"] => (
            GET_POST,
            Ok(if method == "POST" {
                Page::CreateEndpoint
            } else {
                Page::Endpoints
            }),
        ),
        ["endpoints", "new"] => (GET, Ok(Page::NewEndpoint)),
        ["endpoints", id] => (
            GET_POST,
            sub(id).map(|id| {
                if method == "POST" {
                    Page::UpdateEndpoint(id)
                } else {
                    Page::Endpoint(id)
                }
            }),
        ),
        ["endpoints", id, action] => {
            let id = sub(id);
            let page = match action {
                "delete" => id.map(Page::DeleteEndpoint),
                "secret" => id.map(Page::RevealSecret),
                "rotate" => id.map(Page::RotateSecret),
                "test" => id.map(Page::TestEndpoint),
                "replay" => id.map(Page::ReplayEndpoint),
                _ => Err(Unrouted::NotFound),
            };
            (POST, page)
        }
        ["events"] => (GET, Ok(Page::Events)),
        ["events", id] => (GET, event(id).map(Page::Event)),
        ["events", id, "resend"] => (POST, event(id).map(Page::Resend)),
        _ => return Err(Unrouted::NotFound),
    };
    let page = found?;
    if methods.contains(&method) {
        Ok(page)
    } else {
        Err(Unrouted::MethodNotAllowed(methods))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_pages_and_methods_are_checked() {
        let sub = SubscriptionId::from_parts(1, 1);
        let evt = EventId::from_parts(1, 1);
        assert_eq!(page("GET", "/portal/endpoints"), Ok(Page::Endpoints));
        assert_eq!(page("POST", "/portal/endpoints"), Ok(Page::CreateEndpoint));
        assert_eq!(
            page("GET", &format!("/portal/endpoints/{sub}")),
            Ok(Page::Endpoint(sub))
        );
        assert_eq!(
            page("POST", &format!("/portal/endpoints/{sub}/rotate")),
            Ok(Page::RotateSecret(sub))
        );
        assert_eq!(
            page("POST", &format!("/portal/events/{evt}/resend")),
            Ok(Page::Resend(evt))
        );
        assert_eq!(page("GET", "/portal/login"), Ok(Page::Login));
        assert_eq!(page("POST", "/portal/login"), Ok(Page::OpenSession));
        assert_eq!(page("GET", "/portal/endpoints/new"), Ok(Page::NewEndpoint));
    }

    #[test]
    fn unknown_paths_ids_and_methods_are_refused() {
        let sub = SubscriptionId::from_parts(1, 1);
        assert_eq!(page("GET", "/portal/nothing"), Err(Unrouted::NotFound));
        assert_eq!(
            page("GET", "/portal/endpoints/sub_bad"),
            Err(Unrouted::NotFound)
        );
        assert_eq!(page("GET", "/portal/endpoints/"), Err(Unrouted::NotFound));
        assert_eq!(page("GET", "/api/v1/users"), Err(Unrouted::NotFound));
        assert_eq!(
            page("GET", &format!("/portal/endpoints/{sub}/rotate")),
            Err(Unrouted::MethodNotAllowed(POST))
        );
        assert_eq!(
            page("DELETE", "/portal/events"),
            Err(Unrouted::MethodNotAllowed(GET))
        );
        assert!(!Page::Login.needs_session() && Page::Events.needs_session());
    }
}
