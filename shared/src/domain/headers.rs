//! Custom headers a subscription sends with every delivery (a receiver's own token, a routing
//! key): which may be set, and how the API shows them. Their values are credentials: never
//! logged, and masked whenever shown.

use std::collections::BTreeMap;

/// Headers per subscription at most.
pub const MAX_HEADERS: usize = 10;
/// The longest name, and the longest value, in bytes.
pub const MAX_NAME: usize = 64;
pub const MAX_VALUE: usize = 1024;
/// Names and values together, in bytes.
pub const MAX_TOTAL: usize = 4096;

/// Names a subscription may not set (compared without case): hop-by-hop headers, what the HTTP
/// client sets, and what the delivery itself is (`webhook-*` too).
const RESERVED: [&str; 14] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-type",
    "content-length",
    "content-encoding",
    "user-agent",
];

/// An HTTP token character (RFC 9110 `tchar`).
const fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// What is wrong with `headers`, as (field, message) pairs; none when they may be set.
#[must_use]
pub fn problems(headers: &BTreeMap<String, String>) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    if headers.len() > MAX_HEADERS {
        found.push(("headers".to_owned(), "at most 10 headers"));
    }
    let total: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if total > MAX_TOTAL {
        found.push((
            "headers".to_owned(),
            "at most 4096 bytes of names and values",
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let lower = name.to_ascii_lowercase();
        if name.is_empty() || name.len() > MAX_NAME || !name.bytes().all(is_tchar) {
            found.push((
                field,
                "a header name is 1 to 64 letters, digits or !#$%&'*+-.^_`|~",
            ));
        } else if RESERVED.contains(&lower.as_str()) || lower.starts_with("webhook-") {
            found.push((
                field,
                "is set by the platform (hop-by-hop, Content-*, Host, User-Agent, webhook-*)",
            ));
        } else if seen.contains(&lower) {
            found.push((
                field,
                "the same name twice (names are compared without case)",
            ));
        } else if value.is_empty()
            || value.len() > MAX_VALUE
            || !value
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            found.push((
                field,
                "a value is 1 to 1024 visible ASCII characters, spaces or tabs",
            ));
        }
        seen.push(lower);
    }
    found
}

/// A value as the API shows it: its last 4 characters when it has at least 12, else nothing.
#[must_use]
pub fn masked(value: &str) -> String {
    match value.len() {
        12.. => format!("****{}", &value[value.len() - 4..]),
        _ => "****".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn ordinary_headers_may_be_set() {
        let ok = of(&[
            ("Authorization", "Bearer 0123456789abcdef"),
            ("X-Tenant", "acme"),
            ("x-api_key.v2", "k\tv with spaces"),
        ]);
        assert!(problems(&ok).is_empty(), "{:?}", problems(&ok));
    }

    #[test]
    fn reserved_malformed_and_oversized_headers_are_refused() {
        for name in [
            "Host",
            "content-type",
            "Transfer-Encoding",
            "User-Agent",
            "Webhook-Signature",
            "webhook-anything",
            "Connection",
        ] {
            assert_eq!(problems(&of(&[(name, "x")])).len(), 1, "{name}");
        }
        for (name, value) in [
            ("", "x"),
            ("Bad Name", "x"),
            ("X-Colon:", "x"),
            ("X-Empty", ""),
            ("X-Newline", "a\r\nInjected: yes"),
            ("X-Unicode", "é"),
        ] {
            assert_eq!(
                problems(&of(&[(name, value)])).len(),
                1,
                "{name:?}: {value:?}"
            );
        }
        let long_name = "n".repeat(MAX_NAME + 1);
        assert_eq!(problems(&of(&[(&long_name, "x")])).len(), 1);
        let long_value = "v".repeat(MAX_VALUE + 1);
        assert_eq!(problems(&of(&[("X-Long", &long_value)])).len(), 1);
        let many: BTreeMap<String, String> = (0..=MAX_HEADERS)
            .map(|i| (format!("X-{i}"), "v".into()))
            .collect();
        assert_eq!(
            problems(&many),
            [("headers".to_owned(), "at most 10 headers")]
        );
        let big: BTreeMap<String, String> = (0..5)
            .map(|i| (format!("X-{i}"), "v".repeat(1000)))
            .collect();
        assert_eq!(problems(&big).len(), 1, "5 × 1000 bytes is over 4096");
        assert_eq!(problems(&of(&[("X-A", "1"), ("x-a", "2")])).len(), 1);
    }

    #[test]
    fn values_are_shown_masked() {
        assert_eq!(masked("Bearer 0123456789abcdef"), "****cdef");
        assert_eq!(masked("short-token"), "****");
        assert_eq!(masked(""), "****");
    }
}
