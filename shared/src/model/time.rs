//! Instants: UTC, to the millisecond, written as RFC 3339 (`2026-12-03T13:17:38.123Z`) in the
//! API, in events and in stored items. Compared as times, never as text.

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;
use std::time::Duration;

/// An instant, UTC, millisecond precision.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Now, to the millisecond (so what is written reads back equal).
    #[must_use]
    pub fn now() -> Self {
        Self::from_unix_millis(Utc::now().timestamp_millis()).unwrap_or(Self(DateTime::UNIX_EPOCH))
    }

    /// An RFC 3339 time with any offset, as UTC to the millisecond.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let parsed = DateTime::parse_from_rfc3339(text).ok()?;
        Self::from_unix_millis(parsed.timestamp_millis())
    }

    /// The instant `millis` milliseconds after the Unix epoch.
    #[must_use]
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(millis).map(Self)
    }

    #[must_use]
    pub fn unix_millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    #[must_use]
    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }

    /// `duration` later (saturating at the far future).
    #[must_use]
    pub fn plus(self, duration: Duration) -> Self {
        chrono::Duration::from_std(duration)
            .ok()
            .and_then(|d| self.0.checked_add_signed(d))
            .map_or(self, Self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text).ok_or(TimestampError)
    }
}

/// A text that is not an RFC 3339 time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time")]
pub struct TimestampError;

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom(TimestampError))
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let t = Timestamp::from_unix_millis(1_764_768_058_123).unwrap();
        assert_eq!(t.to_string(), "2025-12-03T13:20:58.123Z");
        assert_eq!(Timestamp::parse("2025-12-03T13:20:58.123Z"), Some(t));
        assert_eq!(Timestamp::parse("2025-12-03T14:20:58.123+01:00"), Some(t));
        assert_eq!(Timestamp::parse("2025-12-03T13:20:58.1239Z"), Some(t));
        assert_eq!(Timestamp::parse("yesterday"), None);
        assert_eq!(t.unix_seconds(), 1_764_768_058);
        assert_eq!(
            t.plus(Duration::from_secs(86_400)).to_string(),
            "2025-12-04T13:20:58.123Z"
        );
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2025-12-03T13:20:58.123Z\""
        );
        let back: Timestamp = serde_json::from_str("\"2025-12-03T13:20:58.123Z\"").unwrap();
        assert_eq!(back, t);
        assert!(serde_json::from_str::<Timestamp>("\"2025-13-03\"").is_err());
    }

    #[test]
    fn times_compare_as_times_not_as_text() {
        // As text "…T09…" sorts after "…T10…+02:00"; as times it is later only by the clock.
        let nine_utc = Timestamp::parse("2025-12-03T09:00:00.000Z").unwrap();
        let ten_plus_two = Timestamp::parse("2025-12-03T10:00:00.000+02:00").unwrap();
        assert!(ten_plus_two < nine_utc);
        let now = Timestamp::now();
        assert_eq!(Timestamp::parse(&now.to_string()), Some(now));
    }
}
