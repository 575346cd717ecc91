//! Typed ids: `AccountId`, `UserId`, `SubscriptionId`, `EventId`. Each is a ULID (48-bit
//! millisecond time + 80 random bits; the `ulid` crate) written with its prefix: `evt_01JD…`
//! (26 Crockford base32 characters). Ids sort by creation time, which "newest first" listings
//! rely on; within one process they strictly increase. A text that is not exactly such an id of
//! the right kind does not parse, so it never reaches a store.

use std::borrow::Cow;
use std::fmt;
use ulid::Ulid;

/// Crockford's base32 alphabet, as ULIDs are written (upper case, no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new ULID, now. In the same millisecond the previous one is incremented (ULID's monotonic
/// mode), so ids made by one process strictly increase.
pub fn next_ulid() -> Ulid {
    static LAST: std::sync::Mutex<u128> = std::sync::Mutex::new(0);
    let millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).unwrap_or_default();
    let candidate = Ulid::from_parts(millis, u128::from_le_bytes(random)).0;
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let value = if candidate >> 80 <= *last >> 80 {
        *last + 1
    } else {
        candidate
    };
    *last = value;
    Ulid(value)
}

/// The ULID of `text` when it is `prefix` followed by 26 canonical Crockford characters.
fn parse_ulid(prefix: &str, text: &str) -> Option<Ulid> {
    let rest = text.strip_prefix(prefix)?;
    // 26 characters carry 130 bits; a ULID has 128, so the first is at most 7.
    if rest.len() != 26
        || !rest.bytes().all(|b| CROCKFORD.contains(&b))
        || rest.as_bytes()[0] > b'7'
    {
        return None;
    }
    Ulid::from_string(rest).ok()
}

fn write_ulid(f: &mut fmt::Formatter<'_>, prefix: &str, ulid: Ulid) -> fmt::Result {
    let mut buffer = [0u8; ulid::ULID_LEN];
    f.write_str(prefix)?;
    f.write_str(ulid.array_to_str(&mut buffer))
}

/// A text that is not an id of the kind asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a {0}… id")]
pub struct IdError(&'static str);

macro_rules! prefixed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $pattern:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Ulid);

        impl $name {
            /// The prefix of this kind of id.
            pub const PREFIX: &'static str = $prefix;

            /// A new id, created now.
            #[must_use]
            #[allow(clippy::new_without_default)] // a new id is made, never a default one
            pub fn new() -> Self {
                Self(next_ulid())
            }

            /// The id `text` is, if it is exactly one of this kind.
            #[must_use]
            pub fn parse(text: &str) -> Option<Self> {
                parse_ulid($prefix, text).map(Self)
            }

            /// The id with this ULID.
            #[must_use]
            pub const fn from_ulid(ulid: Ulid) -> Self {
                Self(ulid)
            }

            /// The id of a ULID's parts: fixed ids for samples and tests.
            #[must_use]
            pub const fn from_parts(timestamp_ms: u64, random: u128) -> Self {
                Self(Ulid::from_parts(timestamp_ms, random))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_ulid(f, $prefix, self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_ulid(f, $prefix, self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::parse(text).ok_or(IdError($prefix))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).ok_or_else(|| serde::de::Error::custom(IdError($prefix)))
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .pattern(Some($pattern))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

prefixed_id!(
    /// An account: `acc_…`.
    AccountId,
    "acc_",
    "^acc_[0-7][0-9A-HJKMNP-TV-Z]{25}$"
);
prefixed_id!(
    /// A user of an account: `usr_…`.
    UserId,
    "usr_",
    "^usr_[0-7][0-9A-HJKMNP-TV-Z]{25}$"
);
prefixed_id!(
    /// A subscription: `sub_…`.
    SubscriptionId,
    "sub_",
    "^sub_[0-7][0-9A-HJKMNP-TV-Z]{25}$"
);
prefixed_id!(
    /// An event: `evt_…`.
    EventId,
    "evt_",
    "^evt_[0-7][0-9A-HJKMNP-TV-Z]{25}$"
);
prefixed_id!(
    /// An account's API key (its id, not the key): `key_…`.
    ApiKeyId,
    "key_",
    "^key_[0-7][0-9A-HJKMNP-TV-Z]{25}$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_known_answers() {
        // The ULID spec's example time with all-zero randomness, and the largest value.
        let id = EventId::from_ulid(Ulid::from_parts(1_469_918_176_385, 0));
        assert_eq!(id.to_string(), "evt_01ARYZ6S410000000000000000");
        assert_eq!(EventId::parse("evt_01ARYZ6S410000000000000000"), Some(id));
        let max = AccountId::from_ulid(Ulid::from_parts(0, u128::MAX));
        assert_eq!(max.to_string(), "acc_0000000000ZZZZZZZZZZZZZZZZ");
    }

    #[test]
    fn ids_have_their_prefix_sort_by_time_and_parse_strictly() {
        let a = EventId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = EventId::new();
        let text = a.to_string();
        assert!(text.starts_with("evt_") && text.len() == 30, "{text}");
        assert!(a < b && text < b.to_string());
        let burst: Vec<String> = (0..1000).map(|_| EventId::new().to_string()).collect();
        assert!(
            burst.windows(2).all(|w| w[0] < w[1]),
            "ids made in the same millisecond still increase"
        );
        assert_eq!(EventId::parse(&text), Some(a));
        assert_eq!(UserId::parse(&text), None, "another kind's id");
        for bad in [
            "evt_../../etc",
            "evt_01arYZ6S410000000000000000",
            "evt_01ARYZ6S41000000000000000",
            "evt_01ARYZ6S4100000000000000000",
            "evt_81ARYZ6S410000000000000000",
            "evt_01ARYZ6S41000000000000000I",
            "",
        ] {
            assert_eq!(EventId::parse(bad), None, "{bad}");
        }
        let long = format!("evt_{}", "0".repeat(1100));
        assert_eq!(EventId::parse(&long), None);
    }

    #[test]
    fn ids_are_strings_on_the_wire() {
        let id = SubscriptionId::parse("sub_01KSAMP1E00000000000000001").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"sub_01KSAMP1E00000000000000001\""
        );
        let back: SubscriptionId =
            serde_json::from_str("\"sub_01KSAMP1E00000000000000001\"").unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<SubscriptionId>("\"sub_1\"").is_err());
        assert!(
            serde_json::from_str::<SubscriptionId>("\"evt_01KSAMP1E00000000000000001\"").is_err()
        );
    }
}
