//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`,
//! one `v1,…` entry per currently valid secret, space separated.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far a timestamp may be from now, either way, for [`verify`] to accept it.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("secret is not whsec_ followed by base64")]
    BadSecret,
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("timestamp is not a number")]
    BadTimestamp,
    #[error("timestamp is more than five minutes from now")]
    StaleTimestamp,
    #[error("no signature matches")]
    NoMatch,
}

/// The key bytes of a `whsec_…` secret.
///
/// # Errors
/// The secret is not `whsec_` + base64.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, SignatureError> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .map_err(|_| SignatureError::BadSecret)
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Result<Hmac<Sha256>, SignatureError> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|_| SignatureError::BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` header value: `v1,<sig>` for each secret, space separated.
///
/// # Errors
/// A secret is malformed.
pub fn sign(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignatureError> {
    let mut parts = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let tag = mac(&secret_key(secret)?, id, timestamp, body)?
            .finalize()
            .into_bytes();
        parts.push(format!("v1,{}", STANDARD.encode(tag)));
    }
    Ok(parts.join(" "))
}

/// For receivers: checks the Standard Webhooks headers of a request against `secret`.
/// `header` looks a header up by its lower-case name. Accepts when the timestamp is within five
/// minutes of `now` (unix seconds) and any listed `v1` signature matches, compared in constant time.
///
/// # Errors
/// Which check failed.
pub fn verify<'a>(
    secret: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let id = header("webhook-id").ok_or(SignatureError::MissingHeader("webhook-id"))?;
    let timestamp =
        header("webhook-timestamp").ok_or(SignatureError::MissingHeader("webhook-timestamp"))?;
    let signatures =
        header("webhook-signature").ok_or(SignatureError::MissingHeader("webhook-signature"))?;
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::StaleTimestamp);
    }
    let key = secret_key(secret)?;
    for entry in signatures.split_whitespace() {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(candidate) = STANDARD.decode(encoded) else {
            continue;
        };
        if mac(&key, id, timestamp, body)?
            .verify_slice(&candidate)
            .is_ok()
        {
            return Ok(());
        }
    }
    Err(SignatureError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The published example of the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn headers<'a>(
        id: &'a str,
        timestamp: &'a str,
        signature: &'a str,
    ) -> impl Fn(&str) -> Option<&'a str> {
        move |name| match name {
            "webhook-id" => Some(id),
            "webhook-timestamp" => Some(timestamp),
            "webhook-signature" => Some(signature),
            _ => None,
        }
    }

    #[test]
    fn reproduces_the_specifications_vector() {
        assert_eq!(sign(&[SECRET], ID, TIMESTAMP, BODY).unwrap(), EXPECTED);
    }

    #[test]
    fn one_entry_per_secret() {
        let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let header = sign(&[SECRET, other], ID, TIMESTAMP, BODY).unwrap();
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], EXPECTED);
        assert!(verify(other, headers(ID, "1614265330", &header), BODY, TIMESTAMP).is_ok());
    }

    #[test]
    fn verify_accepts_the_vector_and_refuses_tampering() {
        let ok = |sig: &str, ts: &str, body: &[u8], now: i64| {
            verify(SECRET, headers(ID, ts, sig), body, now)
        };
        assert_eq!(ok(EXPECTED, "1614265330", BODY, TIMESTAMP), Ok(()));
        assert_eq!(
            ok(
                &format!("v1,bm9wZQ== {EXPECTED}"),
                "1614265330",
                BODY,
                TIMESTAMP
            ),
            Ok(()),
            "any entry may match"
        );
        assert_eq!(
            ok(
                EXPECTED,
                "1614265330",
                br#"{"test": 2432232315}"#,
                TIMESTAMP
            ),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            ok(EXPECTED, "1614265331", BODY, TIMESTAMP),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            ok(
                "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                "1614265330",
                BODY,
                TIMESTAMP
            ),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            ok(EXPECTED, "1614265330", BODY, TIMESTAMP + 301),
            Err(SignatureError::StaleTimestamp)
        );
        assert_eq!(
            ok(EXPECTED, "1614265330", BODY, TIMESTAMP - 301),
            Err(SignatureError::StaleTimestamp)
        );
        assert_eq!(ok(EXPECTED, "1614265330", BODY, TIMESTAMP + 300), Ok(()));
        assert_eq!(
            ok(EXPECTED, "soon", BODY, TIMESTAMP),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(
                SECRET,
                |n| (n != "webhook-id").then_some("x"),
                BODY,
                TIMESTAMP
            ),
            Err(SignatureError::MissingHeader("webhook-id"))
        );
        assert_eq!(
            verify(
                "whsec_***",
                headers(ID, "1614265330", EXPECTED),
                BODY,
                TIMESTAMP
            ),
            Err(SignatureError::BadSecret)
        );
    }
}
