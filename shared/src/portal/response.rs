//! The portal's responses: HTML with the security headers every page carries (a strict
//! Content-Security-Policy: scripts and styles from the portal itself only, nothing inline),
//! redirects after a form, the session cookie, and the two static assets.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

/// No inline script or style, nothing from elsewhere, forms only to the portal, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The session cookie's name; it is sent to the portal's paths only.
pub const COOKIE: &str = "rusthook_portal";
const COOKIE_PATH: &str = "/portal";

pub const CSS: &str = include_str!("../../assets/portal/portal.css");
pub const JS: &str = include_str!("../../assets/portal/portal.js");

fn with_headers(mut response: Response<Body>, content_type: &'static str) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A sign-in link carries its token in the URL: no page passes its address to another site.
    // (`no-referrer` would also make the browser send `Origin: null` with the portal's own
    // forms, and forms are checked against the portal's origin.)
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An HTML page.
#[must_use]
pub fn html(status: StatusCode, page: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(page));
    *response.status_mut() = status;
    with_headers(response, "text/html; charset=utf-8")
}

/// A static asset of the portal.
#[must_use]
pub fn asset(content_type: &'static str, text: &'static str) -> Response<Body> {
    with_headers(Response::new(Body::Text(text.to_owned())), content_type)
}

/// 303 to `location` (a path of the portal), after a form.
#[must_use]
pub fn see_other(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    with_headers(response, "text/html; charset=utf-8")
}

/// Sets (a token and its lifetime) or clears (`None`) the session cookie: sent back only over
/// HTTPS, to the portal's paths, from the portal's own pages, and never readable by scripts.
#[must_use]
pub fn with_cookie(mut response: Response<Body>, session: Option<(&str, u64)>) -> Response<Body> {
    let (value, max_age) = session.unwrap_or(("", 0));
    let cookie = format!(
        "{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The session token of the request's cookie header, if any.
#[must_use]
pub fn session_token(cookie_header: Option<&str>) -> Option<&str> {
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others_and_an_empty_one_is_none() {
        assert_eq!(
            session_token(Some("a=1; rusthook_portal=rhps_x; b=2")),
            Some("rhps_x")
        );
        assert_eq!(session_token(Some("rusthook_portal=")), None);
        assert_eq!(session_token(Some("other=rusthook_portal")), None);
        assert_eq!(session_token(None), None);
    }

    #[test]
    fn the_cookie_is_http_only_secure_and_strict() {
        let response = with_cookie(html(StatusCode::OK, String::new()), Some(("t", 60)));
        let cookie = response.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap_or("");
        assert_eq!(
            cookie,
            "rusthook_portal=t; Path=/portal; Max-Age=60; HttpOnly; Secure; SameSite=Strict"
        );
        let cleared = with_cookie(see_other("/portal/login"), None);
        assert!(
            cleared.headers()[header::SET_COOKIE]
                .to_str()
                .unwrap_or("")
                .starts_with("rusthook_portal=; Path=/portal; Max-Age=0;")
        );
        assert_eq!(
            response.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
    }
}
