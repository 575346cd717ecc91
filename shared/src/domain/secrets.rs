//! Random material and its protected forms: API keys (shown once, stored as SHA-256), webhook
//! signing secrets (Standard Webhooks `whsec_` format) and user passwords (Argon2id).

use argon2::{Argon2, PasswordHasher, PasswordVerifier, password_hash::phc::PasswordHash};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Fills `buffer` from the operating system's CSPRNG.
///
/// # Panics
/// Never in practice: the OS generator failing is unrecoverable, and Lambda's never does.
#[allow(clippy::panic)]
pub fn fill_random(buffer: &mut [u8]) {
    if let Err(error) = getrandom::fill(buffer) {
        panic!("the operating system's random generator failed: {error}");
    }
}

/// Keys an account may hold at once (disabling an account marks them all in one transaction).
pub const MAX_API_KEYS: usize = 20;

/// A new account API key: `rhk_` + 32 random bytes, base64url.
#[must_use]
pub fn new_api_key() -> String {
    random_token("rhk_")
}

/// A portal link's or session's token: 256 random bits, base64url, after `prefix`. Stored as
/// its [`api_key_hash`], like an API key.
#[must_use]
pub fn new_portal_token(prefix: &str) -> String {
    random_token(prefix)
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for an API key: its SHA-256, hex. Keys are 256-bit random, so a fast hash is
/// enough (no dictionary to attack).
#[must_use]
pub fn api_key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Constant-time equality of two secrets (compares their SHA-256 digests, so lengths leak nothing).
#[must_use]
pub fn secrets_equal(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.ct_eq(&b).into()
}

/// A new webhook signing secret: `whsec_` + base64 of 32 random bytes.
#[must_use]
pub fn new_webhook_secret() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct PasswordError;

/// An Argon2id PHC string for `password` (default parameters: 19 MiB, 2 passes).
///
/// # Errors
/// The hasher failed (it does not for valid input).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| PasswordError)
}

/// Whether `password` matches a stored PHC string.
#[must_use]
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_hash_known_answer() {
        // SHA-256("abc") from FIPS 180-2.
        assert_eq!(
            api_key_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn keys_and_secrets_are_random_and_well_formed() {
        let (a, b) = (new_api_key(), new_api_key());
        assert_ne!(a, b);
        assert!(a.starts_with("rhk_") && a.len() == 4 + 43);
        let secret = new_webhook_secret();
        let raw = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
    }

    #[test]
    fn secrets_equal_is_exact() {
        assert!(secrets_equal("k-1", "k-1"));
        assert!(!secrets_equal("k-1", "k-2"));
        assert!(!secrets_equal("k-1", "k-1 "));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let stored = hash_password("abc123").unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("abc123"));
        assert!(verify_password("abc123", &stored));
        assert!(!verify_password("abc124", &stored));
        assert!(!verify_password("abc123", "not a phc string"));
    }
}
