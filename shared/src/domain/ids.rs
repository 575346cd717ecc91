//! Prefixed, time-sortable identifiers: `evt_01JD…`. The 26 characters after the prefix are a
//! ULID (48-bit millisecond timestamp + 80 random bits, Crockford base32), so ids sort by creation
//! time, which is what "newest first" listings rely on.

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The kinds of id, with their prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Account,
    User,
    Subscription,
    Event,
}

impl IdKind {
    #[must_use]
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Account => "acc_",
            Self::User => "usr_",
            Self::Subscription => "sub_",
            Self::Event => "evt_",
        }
    }
}

/// A new id of `kind`, created now. Within one process ids strictly increase (ULID's monotonic
/// mode: in the same millisecond the random part is incremented), so listings by id keep the
/// order in which one function instance created things.
#[must_use]
pub fn new_id(kind: IdKind) -> String {
    static LAST: std::sync::Mutex<u128> = std::sync::Mutex::new(0);
    let millis = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
    let mut random = [0u8; 10];
    crate::domain::secrets::fill_random(&mut random);
    let mut value = ulid_value(millis, random);
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if value >> 80 <= *last >> 80 {
        value = *last + 1;
    }
    *last = value;
    format!("{}{}", kind.prefix(), encode(value))
}

fn ulid_value(millis: u64, random: [u8; 10]) -> u128 {
    let mut value: u128 = u128::from(millis & 0xFFFF_FFFF_FFFF) << 80;
    for (index, byte) in random.iter().enumerate() {
        value |= u128::from(*byte) << (8 * (9 - index));
    }
    value
}

#[cfg(test)]
fn ulid(millis: u64, random: [u8; 10]) -> String {
    encode(ulid_value(millis, random))
}

fn encode(value: u128) -> String {
    (0..26)
        .map(|i| {
            let shift = 5 * (25 - i);
            let digit = usize::try_from((value >> shift) & 0x1F).unwrap_or(0);
            char::from(CROCKFORD[digit])
        })
        .collect()
}

/// Whether `text` is a well-formed id of `kind` (prefix + 26 Crockford characters).
#[must_use]
pub fn is_id(kind: IdKind, text: &str) -> bool {
    text.strip_prefix(kind.prefix())
        .is_some_and(|rest| rest.len() == 26 && rest.bytes().all(|b| CROCKFORD.contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_known_answer() {
        // Timestamp 1469918176385 with all-zero randomness, from the ULID spec's example time.
        assert_eq!(
            ulid(1_469_918_176_385, [0; 10]),
            "01ARYZ6S410000000000000000"
        );
        assert_eq!(ulid(0, [0xFF; 10]), "0000000000ZZZZZZZZZZZZZZZZ");
    }

    #[test]
    fn ids_have_their_prefix_sort_by_time_and_validate() {
        let a = new_id(IdKind::Event);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id(IdKind::Event);
        assert!(a.starts_with("evt_") && a.len() == 30);
        assert!(a < b, "{a} < {b}");
        let burst: Vec<String> = (0..1000).map(|_| new_id(IdKind::Event)).collect();
        assert!(
            burst.windows(2).all(|w| w[0] < w[1]),
            "ids made in the same millisecond still increase"
        );
        assert!(is_id(IdKind::Event, &a));
        assert!(!is_id(IdKind::User, &a));
        assert!(!is_id(IdKind::Event, "evt_../../etc"));
    }
}
