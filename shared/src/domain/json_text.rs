//! What parsing a JSON text into values does not tell: whether an object names a key twice (the
//! parser keeps the last), and whether every number survives as written (a parsed number is an
//! `i64`, a `u64` or an `f64`, so `18446744073709551617` or `0.10000000000000000555` would be
//! delivered changed). A request body with either is refused rather than silently altered.

use std::collections::HashSet;

/// Why a JSON text cannot be kept as it was written. Pointers are JSON Pointers (RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonTextError {
    #[error("the key at {pointer} appears more than once in its object")]
    DuplicateKey { pointer: String },
    #[error(
        "the number {number} at {pointer} cannot be kept exactly (beyond 64-bit integers and \
         double precision); send it as a string"
    )]
    InexactNumber { pointer: String, number: String },
}

enum Frame {
    Object {
        keys: HashSet<String>,
        key: Option<String>,
        expect_key: bool,
    },
    Array {
        index: usize,
    },
}

/// Checks a text that already parsed as JSON: every key once per object, every number exact.
///
/// # Errors
/// The first duplicate key or inexact number, with where it is.
pub fn check(text: &str) -> Result<(), JsonTextError> {
    let bytes = text.as_bytes();
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                frames.push(Frame::Object {
                    keys: HashSet::new(),
                    key: None,
                    expect_key: true,
                });
                i += 1;
            }
            b'[' => {
                frames.push(Frame::Array { index: 0 });
                i += 1;
            }
            b'}' | b']' => {
                frames.pop();
                i += 1;
            }
            b',' => {
                match frames.last_mut() {
                    Some(Frame::Array { index }) => *index += 1,
                    Some(Frame::Object { expect_key, .. }) => *expect_key = true,
                    None => {}
                }
                i += 1;
            }
            b'"' => {
                let end = string_end(bytes, i);
                if let Some(Frame::Object {
                    keys,
                    key,
                    expect_key: expect_key @ true,
                }) = frames.last_mut()
                {
                    let name: String = serde_json::from_str(text.get(i..end).unwrap_or("\"\""))
                        .unwrap_or_default();
                    *expect_key = false;
                    if !keys.insert(name.clone()) {
                        *key = Some(name);
                        return Err(JsonTextError::DuplicateKey {
                            pointer: pointer(&frames),
                        });
                    }
                    *key = Some(name);
                }
                i = end;
            }
            b'-' | b'0'..=b'9' => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .map_or(bytes.len(), |n| i + n);
                let number = text.get(i..end).unwrap_or_default();
                if !is_exact(number) {
                    return Err(JsonTextError::InexactNumber {
                        pointer: pointer(&frames),
                        number: number.to_owned(),
                    });
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// The index just past the string that opens at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Where the value being read sits.
fn pointer(frames: &[Frame]) -> String {
    let mut out = String::new();
    for frame in frames {
        out.push('/');
        match frame {
            Frame::Object { key, .. } => {
                out.push_str(
                    &key.as_deref()
                        .unwrap_or_default()
                        .replace('~', "~0")
                        .replace('/', "~1"),
                );
            }
            Frame::Array { index } => out.push_str(&index.to_string()),
        }
    }
    out
}

/// Whether the number, parsed as the API parses it and written back, has the same value.
#[must_use]
pub fn is_exact(number: &str) -> bool {
    serde_json::from_str::<serde_json::Number>(number)
        .is_ok_and(|parsed| canonical(number) == canonical(&parsed.to_string()))
}

/// A decimal's value as (negative, significant digits, exponent of the point): `-0.0120e3` is
/// `(true, "12", 2)`, i.e. 0.12 × 10². Zero is `(false, "", 0)` whatever its sign or spelling.
fn canonical(number: &str) -> Option<(bool, String, i64)> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], unsigned[at + 1..].parse::<i64>().ok()?),
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let leading = digits.len() - digits.trim_start_matches('0').len();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    if significant.is_empty() {
        return Some((false, String::new(), 0));
    }
    let point = i64::try_from(whole.len()).ok()? - i64::try_from(leading).ok()? + exponent;
    Some((negative, significant.to_owned(), point))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_survive_are_exact() {
        for n in [
            "0",
            "-0",
            "0.0",
            "1",
            "-1",
            "1.5",
            "0.1",
            "0.3",
            "100",
            "1e2",
            "1E+2",
            "1.0e-7",
            "12345.678",
            "9007199254740993",
            "18446744073709551615",
            "-9223372036854775808",
            "1.7976931348623157e308",
            "5e-324",
            "123456789012345680000",
        ] {
            assert!(is_exact(n), "{n}");
        }
    }

    #[test]
    fn numbers_that_would_change_are_not() {
        for n in [
            "18446744073709551617",
            "-9223372036854775809",
            "0.1000000000000000055511151231257827",
            "9007199254740993.0",
            "1.00000000000000001",
            "123456789012345678901",
        ] {
            assert!(!is_exact(n), "{n}");
        }
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("-0.0120e3"), Some((true, "12".into(), 2)));
        assert_eq!(canonical("1200"), Some((false, "12".into(), 4)));
        assert_eq!(canonical("0.000"), Some((false, String::new(), 0)));
        assert_eq!(canonical("1e2"), canonical("100.0"));
    }

    #[test]
    fn texts_are_checked_in_depth_with_pointers() {
        assert_eq!(
            check(r#"{"a":{"b":[1,2.5,{"c":"}{\"x\":1,"}]},"d":"1e999"}"#),
            Ok(())
        );
        assert_eq!(
            check(r#"{"a":[0,{"b~/":1,"b~/":2}]}"#),
            Err(JsonTextError::DuplicateKey {
                pointer: "/a/1/b~0~1".into()
            })
        );
        assert_eq!(
            check(r#"{"a":1,"\u0061":2}"#),
            Err(JsonTextError::DuplicateKey {
                pointer: "/a".into()
            })
        );
        assert_eq!(
            check(r#"{"x":{"y":1},"z":[1,18446744073709551617]}"#),
            Err(JsonTextError::InexactNumber {
                pointer: "/z/1".into(),
                number: "18446744073709551617".into()
            })
        );
        assert_eq!(check(r#"[{"a":1},{"a":1}]"#), Ok(()));
        assert_eq!(check(r#"{"a":{"a":{"a":1}}}"#), Ok(()));
    }
}
