//! Free text a person types: names, descriptions, passwords. Any Unicode — emoji, any script,
//! bidirectional marks — but control characters (NUL, newlines, escapes: Unicode's `Cc`), which
//! none of these fields needs and which break logs, headers and terminals. Lengths in characters.

use std::ops::RangeInclusive;

/// An account's or an API key's name (trimmed first).
pub const NAME_LENGTHS: RangeInclusive<usize> = 1..=100;
/// A subscription's description.
pub const DESCRIPTION_LENGTHS: RangeInclusive<usize> = 0..=500;
/// A user's password.
pub const PASSWORD_LENGTHS: RangeInclusive<usize> = 6..=128;

/// The OpenAPI `pattern` of free text: no control character.
pub const PATTERN: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

/// Whether `text` is free text with a length in `lengths`; if not, what it must be.
///
/// # Errors
/// The rule, as a validation message says it.
pub fn check(text: &str, lengths: &RangeInclusive<usize>) -> Result<(), String> {
    if lengths.contains(&text.chars().count()) && !text.chars().any(char::is_control) {
        return Ok(());
    }
    let length = if *lengths.start() == 0 {
        format!("at most {} characters", lengths.end())
    } else {
        format!("{} to {} characters", lengths.start(), lengths.end())
    };
    Err(format!("must be {length}, without control characters"))
}

/// A name as given: free text of [`NAME_LENGTHS`], not blank; kept trimmed.
///
/// # Errors
/// The rule, as a validation message says it.
pub fn name(raw: &str) -> Result<String, String> {
    check(raw, &NAME_LENGTHS)?;
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return check(trimmed, &NAME_LENGTHS).map(|()| String::new());
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_is_kept_and_control_characters_are_not() {
        for good in [
            "a",
            "party 🎉 👍🏽",
            "abc\u{202e}cba",
            "Ünïcödé ✓",
            &"é".repeat(100),
        ] {
            assert_eq!(check(good, &NAME_LENGTHS), Ok(()), "{good:?}");
        }
        for bad in [
            "",
            "a\u{0}b",
            "two\nlines",
            "tab\there",
            "del\u{7f}",
            "c1\u{85}",
            &"x".repeat(101),
        ] {
            assert_eq!(
                check(bad, &NAME_LENGTHS),
                Err("must be 1 to 100 characters, without control characters".into()),
                "{bad:?}"
            );
        }
        assert_eq!(check("", &DESCRIPTION_LENGTHS), Ok(()));
        assert_eq!(
            check("\u{1b}[31m", &DESCRIPTION_LENGTHS),
            Err("must be at most 500 characters, without control characters".into())
        );
    }

    #[test]
    fn names_are_trimmed_and_not_blank() {
        assert_eq!(name("  acme 🎉 "), Ok("acme 🎉".into()));
        assert!(name("   ").is_err());
        assert!(
            name("\nacme").is_err(),
            "a control character is refused, not trimmed"
        );
    }

    #[test]
    fn the_pattern_says_the_same() {
        // The pattern's ranges are exactly Unicode's Cc, which `char::is_control` tests.
        let control: Vec<u32> = (0..0x110000)
            .filter_map(char::from_u32)
            .filter(|c| c.is_control())
            .map(u32::from)
            .collect();
        let expected: Vec<u32> = (0..=0x1f).chain(0x7f..=0x9f).collect();
        assert_eq!(control, expected);
        assert_eq!(PATTERN, r"^[^\u0000-\u001F\u007F-\u009F]*$");
    }
}
