//! Plain names: usernames and the photo ids a customer's own system hands us. Letters, digits,
//! `_`, `.` and `-` only, so they are safe in keys, paths and logs.

use std::ops::RangeInclusive;

/// The lengths a username may have.
pub const USERNAME_LENGTHS: RangeInclusive<usize> = 3..=50;
/// The lengths a photo id may have.
pub const PHOTO_ID_LENGTHS: RangeInclusive<usize> = 1..=100;

/// Whether `text` is a plain name with a length in `lengths`.
#[must_use]
pub fn is_plain_name(text: &str, lengths: &RangeInclusive<usize>) -> bool {
    lengths.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// What a field holding a plain name must be, as a validation message says it.
#[must_use]
pub fn plain_name_rule(lengths: &RangeInclusive<usize>) -> String {
    format!(
        "must be {} to {} characters of A-Z, a-z, 0-9, _ . -",
        lengths.start(),
        lengths.end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names() {
        for good in ["abc", "a.b-c_9", &"x".repeat(50)] {
            assert!(is_plain_name(good, &USERNAME_LENGTHS), "{good}");
        }
        for bad in ["ab", &"x".repeat(51), "a b", "a/b", "é.b", "a\u{0}b"] {
            assert!(!is_plain_name(bad, &USERNAME_LENGTHS), "{bad}");
        }
        assert!(is_plain_name("p", &PHOTO_ID_LENGTHS));
        assert!(!is_plain_name("", &PHOTO_ID_LENGTHS));
        assert_eq!(
            plain_name_rule(&USERNAME_LENGTHS),
            "must be 3 to 50 characters of A-Z, a-z, 0-9, _ . -"
        );
    }
}
