//! Event types (`noun.verb`, lowercase `[a-z0-9_]` segments) and the filters subscriptions use:
//! an exact type, `noun.*`, or `*`.

/// The longest event type or filter, in characters (all ASCII).
pub const MAX_LEN: usize = 100;
/// What an event type must be, as a validation message says it.
pub const EVENT_TYPE_RULE: &str =
    "must be noun.verb (lowercase a-z, 0-9, _), at most 100 characters";
/// An event type as a regular expression (the OpenAPI document's pattern; [`is_event_type`]
/// is the rule).
pub const EVENT_TYPE_PATTERN: &str = r"^[a-z0-9_]+\.[a-z0-9_]+$";
/// What a subscription's filter must be, as a validation message says it.
pub const FILTER_RULE: &str =
    "must be noun.verb (lowercase a-z, 0-9, _), noun.* or *, at most 100 characters";

/// The type of the test events (to one subscription, or to all).
pub const TEST_EVENT_TYPE: &str = "webhook.test";

/// The types the platform emits itself (the catalog describes each).
pub const BUILT_IN: &[&str] = &[
    "user.created",
    "user.updated",
    "user.deleted",
    "photo.liked",
    super::sample_orders::ORDER_RECEIVED,
    TEST_EVENT_TYPE,
    crate::model::operational::WEBHOOK_VERIFICATION,
    crate::model::operational::SUBSCRIPTION_DISABLED,
];

/// Whether `event_type` is one the platform emits itself.
#[must_use]
pub fn is_built_in(event_type: &str) -> bool {
    BUILT_IN.contains(&event_type)
}

/// Whether `text` is an event type an event can have: `noun.verb`.
#[must_use]
pub fn is_event_type(text: &str) -> bool {
    let mut parts = text.split('.');
    let (Some(noun), Some(verb), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    text.len() <= MAX_LEN && is_segment(noun) && is_segment(verb)
}

/// Whether `text` is a filter a subscription can list: an event type, `noun.*` or `*`.
#[must_use]
pub fn is_filter(text: &str) -> bool {
    text == "*"
        || (text.len() <= MAX_LEN && text.strip_suffix(".*").is_some_and(is_segment))
        || is_event_type(text)
}

/// The routing rule: the filters that match an event of type `noun.verb` are exactly
/// `noun.verb`, `noun.*` and `*`. Stores that filter server-side ask for these three.
#[must_use]
pub fn filters_matching(event_type: &str) -> [String; 3] {
    let noun = event_type
        .split_once('.')
        .map_or(event_type, |(noun, _)| noun);
    [event_type.to_owned(), format!("{noun}.*"), "*".to_owned()]
}

/// Whether an event of type `event_type` matches `filter`.
#[must_use]
pub fn matches(filter: &str, event_type: &str) -> bool {
    filters_matching(event_type).iter().any(|f| f == filter)
}

/// Whether any of `filters` matches `event_type`.
#[must_use]
pub fn any_matches(filters: &[String], event_type: &str) -> bool {
    let matching = filters_matching(event_type);
    filters.iter().any(|f| matching.contains(f))
}

fn is_segment(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_bounded_like_event_types() {
        let noun = "n".repeat(MAX_LEN - 2);
        assert!(is_filter(&format!("{noun}.*")), "100 characters");
        assert!(!is_filter(&format!("{noun}n.*")), "101 characters");
        assert!(!is_filter(&format!("{}.*", "u".repeat(100_000))));
        assert!(is_event_type(&format!("{noun}.x")));
        assert!(!is_event_type(&format!("{noun}.xy")));
    }

    #[test]
    fn event_types() {
        for good in [
            "user.created",
            "photo.liked",
            "order_item.received",
            "webhook.test",
            "a1.b2",
        ] {
            assert!(is_event_type(good), "{good}");
        }
        for bad in [
            "user",
            "user.",
            ".created",
            "User.created",
            "user.created.now",
            "user.*",
            "*",
            "user created",
            "user.créé",
            "",
        ] {
            assert!(!is_event_type(bad), "{bad}");
        }
    }

    #[test]
    fn filters() {
        for good in ["*", "user.*", "user.created"] {
            assert!(is_filter(good), "{good}");
        }
        for bad in ["*.created", "user.**", "**", "USER.*", "user.c*"] {
            assert!(!is_filter(bad), "{bad}");
        }
    }

    #[test]
    fn matching() {
        assert!(matches("*", "user.created"));
        assert!(matches("user.*", "user.created"));
        assert!(matches("user.created", "user.created"));
        assert!(!matches("user.*", "username.created"));
        assert!(!matches("user.created", "user.deleted"));
        assert!(!matches("photo.*", "user.created"));
        assert!(any_matches(
            &["photo.*".into(), "user.deleted".into()],
            "user.deleted"
        ));
    }
}
