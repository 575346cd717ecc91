//! Configuration read once at cold start from environment variables, failing fast with a
//! message that names the missing or malformed variable.
//!
//! Each function has its own config type and a `VARS` list of the variables it reads, so a test
//! can check that `template.yaml` sets every one of them.

use crate::domain::retry::RetrySchedule;
use crate::domain::target::TargetPolicy;
use crate::ports::SecretSource;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "environment variable {0} is not set (template.yaml or the local env file must set it)"
    )]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where configuration comes from: the process environment in Lambda, a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<S: std::hash::BuildHasher> Source for std::collections::HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Fails on the first of `names` that is missing or empty: a function checks the variables it
/// needs at cold start (its crate's `ENVIRONMENT`, which the template test holds `template.yaml` to).
///
/// # Errors
/// The first missing variable.
pub fn require(source: &impl Source, names: &[&'static str]) -> Result<(), ConfigError> {
    names
        .iter()
        .try_for_each(|name| required(source, name).map(|_| ()))
}

pub(crate) fn required(source: &impl Source, name: &'static str) -> Result<String, ConfigError> {
    match source.get(name) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// Names of the variables, shared by the config types and by `template.yaml`.
pub mod vars {
    pub const DATA_TABLE: &str = "DATA_TABLE";
    pub const EVENTS_TABLE: &str = "EVENTS_TABLE";
    pub const DELIVERY_QUEUE_URL: &str = "DELIVERY_QUEUE_URL";
    /// The ARN (or name) of the secret holding the admin API key, which the stack generates.
    pub const ADMIN_API_KEY_SECRET: &str = "ADMIN_API_KEY_SECRET";
    pub const ALLOW_HTTP_TARGETS: &str = "ALLOW_HTTP_TARGETS";
    pub const ALLOWED_TARGET_CIDRS: &str = "ALLOWED_TARGET_CIDRS";
    pub const RETRY_SCHEDULE: &str = "RETRY_SCHEDULE";
    pub const DEAD_LETTER_QUEUE_URL: &str = "DEAD_LETTER_QUEUE_URL";
    pub const AUTO_DISABLE_AFTER: &str = "AUTO_DISABLE_AFTER";
    pub const DELIVERY_ATTEMPTS: &str = "DELIVERY_ATTEMPTS";
    pub const DELIVERY_TIMEOUT_SECONDS: &str = "DELIVERY_TIMEOUT_SECONDS";
}

/// What the HTTP API functions (`resources`, `subscriptions`) need: their tables, where the admin
/// key is kept (only where the admin routes live), and the target URL policy (local development only
/// loosens it; `template.yaml` sets neither variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    pub data_table: String,
    pub events_table: String,
    /// The secret holding the admin key, read when a request first needs it ([`admin_key`]).
    pub admin_api_key_secret: Option<String>,
    pub targets: TargetPolicy,
    /// Where resends are queued (only the function with the resend route has it).
    pub delivery_queue_url: Option<String>,
    /// Where exhausted deliveries wait for a redrive.
    pub dead_letter_queue_url: Option<String>,
}

impl ApiConfig {
    pub const VARS: &'static [&'static str] = &[vars::DATA_TABLE, vars::EVENTS_TABLE];
    /// What the function with the admin, resend and redrive routes needs on top of `VARS`.
    pub const WITH_QUEUES_VARS: &'static [&'static str] = &[
        vars::DATA_TABLE,
        vars::EVENTS_TABLE,
        vars::ADMIN_API_KEY_SECRET,
        vars::DELIVERY_QUEUE_URL,
        vars::DEAD_LETTER_QUEUE_URL,
    ];

    /// # Errors
    /// A required variable is missing or empty, or an optional one is malformed.
    pub fn load(source: &impl Source) -> Result<Self, ConfigError> {
        let admin_api_key_secret = source
            .get(vars::ADMIN_API_KEY_SECRET)
            .filter(|k| !k.trim().is_empty());
        let targets = TargetPolicy::from_values(
            source.get(vars::ALLOW_HTTP_TARGETS).as_deref(),
            source.get(vars::ALLOWED_TARGET_CIDRS).as_deref(),
        )
        .map_err(|reason| ConfigError::Invalid {
            name: vars::ALLOWED_TARGET_CIDRS,
            reason,
        })?;
        Ok(Self {
            data_table: required(source, vars::DATA_TABLE)?,
            events_table: required(source, vars::EVENTS_TABLE)?,
            admin_api_key_secret,
            targets,
            delivery_queue_url: source
                .get(vars::DELIVERY_QUEUE_URL)
                .filter(|u| !u.trim().is_empty()),
            dead_letter_queue_url: source
                .get(vars::DEAD_LETTER_QUEUE_URL)
                .filter(|u| !u.trim().is_empty()),
        })
    }
}

/// The admin key, read from where the stack keeps it; at least 32 characters.
///
/// # Errors
/// The secret cannot be read, or is too short to be a key.
pub async fn admin_key(source: &impl SecretSource) -> Result<String, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: vars::ADMIN_API_KEY_SECRET,
        reason,
    };
    let key = source.read().await.map_err(|e| invalid(e.to_string()))?;
    if key.trim().len() < 32 {
        return Err(invalid("the key must be at least 32 characters".into()));
    }
    Ok(key.trim().to_owned())
}

/// What the HTTP API's Lambda authorizer needs: the accounts' key hashes and the admin key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerConfig {
    pub data_table: String,
    pub admin_api_key_secret: String,
}

impl AuthorizerConfig {
    pub const VARS: &'static [&'static str] = &[vars::DATA_TABLE, vars::ADMIN_API_KEY_SECRET];

    /// # Errors
    /// A variable is missing or empty.
    pub fn load(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            data_table: required(source, vars::DATA_TABLE)?,
            admin_api_key_secret: required(source, vars::ADMIN_API_KEY_SECRET)?,
        })
    }
}

/// What `fanout` needs: subscriptions to match against, the queue to enqueue deliveries on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutConfig {
    pub data_table: String,
    pub delivery_queue_url: String,
}

impl FanoutConfig {
    pub const VARS: &'static [&'static str] = &[vars::DATA_TABLE, vars::DELIVERY_QUEUE_URL];

    /// # Errors
    /// A variable is missing or empty.
    pub fn load(source: &impl Source) -> Result<Self, ConfigError> {
        Ok(Self {
            data_table: required(source, vars::DATA_TABLE)?,
            delivery_queue_url: required(source, vars::DELIVERY_QUEUE_URL)?,
        })
    }
}

/// What `deliver` needs: subscriptions, events and the attempt log, its own queue for backoff,
/// the retry schedule (whose attempt count must equal the queue's `maxReceiveCount`, passed as
/// `DELIVERY_ATTEMPTS`), the target policy and the request timeout.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliverConfig {
    pub data_table: String,
    pub events_table: String,
    pub delivery_queue_url: String,
    /// Where a delivery goes after its last attempt.
    pub dead_letter_queue_url: String,
    pub schedule: RetrySchedule,
    pub targets: TargetPolicy,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// A subscription whose deliveries have all failed this long is deactivated (default 5 days).
    pub disable_after: Duration,
}

impl DeliverConfig {
    pub const VARS: &'static [&'static str] = &[
        vars::DATA_TABLE,
        vars::EVENTS_TABLE,
        vars::DELIVERY_QUEUE_URL,
        vars::DEAD_LETTER_QUEUE_URL,
        vars::RETRY_SCHEDULE,
        vars::DELIVERY_ATTEMPTS,
    ];

    /// # Errors
    /// A variable is missing or malformed, or the schedule's attempts differ from `DELIVERY_ATTEMPTS`.
    pub fn load(source: &impl Source) -> Result<Self, ConfigError> {
        let schedule =
            RetrySchedule::parse(&required(source, vars::RETRY_SCHEDULE)?).map_err(|reason| {
                ConfigError::Invalid {
                    name: vars::RETRY_SCHEDULE,
                    reason,
                }
            })?;
        let attempts: u32 = required(source, vars::DELIVERY_ATTEMPTS)?
            .parse()
            .map_err(|_| ConfigError::Invalid {
                name: vars::DELIVERY_ATTEMPTS,
                reason: "not a whole number".into(),
            })?;
        if attempts != schedule.attempts() {
            return Err(ConfigError::Invalid {
                name: vars::DELIVERY_ATTEMPTS,
                reason: format!(
                    "is {attempts}, but RETRY_SCHEDULE makes {} attempts; the queue's maxReceiveCount must match",
                    schedule.attempts()
                ),
            });
        }
        let timeout = match source.get(vars::DELIVERY_TIMEOUT_SECONDS) {
            None => Duration::from_secs(15),
            Some(text) => {
                Duration::from_secs(text.trim().parse().map_err(|_| ConfigError::Invalid {
                    name: vars::DELIVERY_TIMEOUT_SECONDS,
                    reason: "not a whole number of seconds".into(),
                })?)
            }
        };
        let targets = TargetPolicy::from_values(
            source.get(vars::ALLOW_HTTP_TARGETS).as_deref(),
            source.get(vars::ALLOWED_TARGET_CIDRS).as_deref(),
        )
        .map_err(|reason| ConfigError::Invalid {
            name: vars::ALLOWED_TARGET_CIDRS,
            reason,
        })?;
        Ok(Self {
            data_table: required(source, vars::DATA_TABLE)?,
            events_table: required(source, vars::EVENTS_TABLE)?,
            delivery_queue_url: required(source, vars::DELIVERY_QUEUE_URL)?,
            dead_letter_queue_url: required(source, vars::DEAD_LETTER_QUEUE_URL)?,
            schedule,
            targets,
            connect_timeout: Duration::from_secs(5).min(timeout),
            disable_after: match source.get(vars::AUTO_DISABLE_AFTER) {
                None => Duration::from_secs(5 * 24 * 3600),
                Some(text) => parse_span(&text).ok_or_else(|| ConfigError::Invalid {
                    name: vars::AUTO_DISABLE_AFTER,
                    reason: "must be a number with s, m, h or d (e.g. 5d)".into(),
                })?,
            },
            timeout,
        })
    }
}

/// `90s`, `30m`, `12h`, `5d`.
fn parse_span(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let value: u64 = text[..split].parse().ok()?;
    let unit = match &text[split..] {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    value.checked_mul(unit).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[cfg(feature = "test-util")]
    #[tokio::test]
    async fn the_admin_key_is_read_from_its_secret_and_must_be_long_enough() {
        use crate::adapters::memory::FixedSecret;
        let key = "k".repeat(40);
        assert_eq!(
            admin_key(&FixedSecret(format!("{key}\n"))).await.unwrap(),
            key
        );
        for short in ["", "short", &"k".repeat(31)] {
            let err = admin_key(&FixedSecret(short.into())).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "ADMIN_API_KEY_SECRET",
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn api_config_names_the_missing_variable() {
        let err = ApiConfig::load(&env(&[("DATA_TABLE", "data")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("EVENTS_TABLE"));
        assert!(err.to_string().contains("EVENTS_TABLE"));
    }

    #[test]
    fn blank_values_count_as_missing() {
        let err = FanoutConfig::load(&env(&[("DATA_TABLE", " "), ("DELIVERY_QUEUE_URL", "q")]));
        assert_eq!(err.unwrap_err(), ConfigError::Missing("DATA_TABLE"));
    }

    #[test]
    fn optional_api_settings_are_checked() {
        let base = [("DATA_TABLE", "d"), ("EVENTS_TABLE", "e")];
        let with = |extra: (&str, &str)| {
            let mut pairs = base.to_vec();
            pairs.push(extra);
            ApiConfig::load(&env(&pairs))
        };
        let admin = with(("ADMIN_API_KEY_SECRET", "arn:aws:secretsmanager:x")).unwrap();
        assert_eq!(
            admin.admin_api_key_secret.as_deref(),
            Some("arn:aws:secretsmanager:x")
        );
        assert!(with(("ALLOWED_TARGET_CIDRS", "not-a-cidr")).is_err());
        let local = with(("ALLOWED_TARGET_CIDRS", "127.0.0.0/8")).unwrap();
        assert_eq!(local.targets.allowed_cidrs.len(), 1);
        assert!(!local.targets.allow_http);
    }

    #[test]
    fn loads_every_listed_variable() {
        let source = env(&[
            ("DATA_TABLE", "d"),
            ("EVENTS_TABLE", "e"),
            ("DELIVERY_QUEUE_URL", "q"),
        ]);
        let api = ApiConfig::load(&source).unwrap();
        assert_eq!(
            (api.data_table.as_str(), api.events_table.as_str()),
            ("d", "e")
        );
        assert_eq!(api.admin_api_key_secret, None);
        assert_eq!(api.targets, TargetPolicy::default());
        let mut deliver = source;
        deliver.insert("DEAD_LETTER_QUEUE_URL".into(), "dlq".into());
        deliver.insert("RETRY_SCHEDULE".into(), "5s,5m".into());
        deliver.insert("DELIVERY_ATTEMPTS".into(), "3".into());
        let loaded = DeliverConfig::load(&deliver).unwrap();
        assert_eq!(loaded.delivery_queue_url, "q");
        assert_eq!(loaded.schedule.attempts(), 3);
        assert_eq!(loaded.timeout, Duration::from_secs(15));
        deliver.insert("DELIVERY_ATTEMPTS".into(), "8".into());
        let mismatch = DeliverConfig::load(&deliver).unwrap_err();
        assert!(
            mismatch.to_string().contains("maxReceiveCount"),
            "{mismatch}"
        );
    }
}
