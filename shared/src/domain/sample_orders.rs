//! The sample event generator's rules: what an `order.received` sample looks like (from random
//! bytes, so tests pin it), and when in a minute an account set to a period gets one.
//!
//! Schedules fire once a minute at best (EventBridge), so each minute's invocation emits an
//! account's events at its period within that minute: every 5 s is 12 events, at 0 s, 5 s, …
//! 55 s; a period over a minute emits in the minutes it falls in.

use crate::model::sample_order::{Customer, LineItem, OrderReceived};
use std::time::Duration;

/// The type of the sample events.
pub const ORDER_RECEIVED: &str = "order.received";
/// The shortest and longest period an account may ask for, in seconds.
pub const MIN_PERIOD: u32 = 5;
pub const MAX_PERIOD: u32 = 3600;
/// The period when none is given (the reference webhook server's).
pub const DEFAULT_PERIOD: u32 = 5;

const CUSTOMERS: [&str; 4] = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Edsger Dijkstra",
];
const PRODUCTS: [(&str, &str, u64); 5] = [
    ("SKU-MUG-01", "Rusthook mug", 1299),
    ("SKU-TEE-02", "Webhook T-shirt", 2450),
    ("SKU-STK-03", "Sticker pack", 499),
    ("SKU-CAP-04", "Serverless cap", 1999),
    ("SKU-NTB-05", "Notebook", 899),
];
const CURRENCIES: [&str; 3] = ["EUR", "USD", "GBP"];
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The sample order these 16 random bytes make.
#[must_use]
pub fn order(random: &[u8; 16]) -> OrderReceived {
    let pick = |i: usize, n: usize| usize::from(random[i]) % n;
    let code = |from: usize, len: usize| -> String {
        random[from..from + len]
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
            .collect()
    };
    let name = CUSTOMERS[pick(0, CUSTOMERS.len())];
    let first = name.split(' ').next().unwrap_or(name).to_lowercase();
    let items = 1 + pick(1, 3);
    let line_items: Vec<LineItem> = (0..items)
        .map(|i| {
            let (sku, name, unit_amount) = PRODUCTS[(pick(2, PRODUCTS.len()) + i) % PRODUCTS.len()];
            LineItem {
                sku,
                name,
                quantity: 1 + u32::from(random[3 + i]) % 3,
                unit_amount,
            }
        })
        .collect();
    let total = line_items
        .iter()
        .map(|l| u64::from(l.quantity) * l.unit_amount)
        .sum();
    OrderReceived {
        order_id: format!("ord_{}", code(4, 12)),
        customer: Customer {
            id: format!("cus_{}", code(6, 8)),
            name,
            email: format!("{first}@example.com"),
        },
        line_items,
        total,
        currency: CURRENCIES[pick(15, CURRENCIES.len())],
        sample: true,
    }
}

/// When in the minute starting at `minute_start` (Unix seconds) an account with `period` seconds
/// gets a sample: offsets from the minute's start, each under a minute.
#[must_use]
pub fn offsets(period: u32, minute_start: i64) -> Vec<Duration> {
    let period = i64::from(period.clamp(MIN_PERIOD, MAX_PERIOD));
    let minute_start = minute_start - minute_start.rem_euclid(60);
    // The first multiple of the period at or after the minute's start.
    let first = minute_start + (period - minute_start.rem_euclid(period)) % period;
    (0..)
        .map(|k| first + k * period)
        .take_while(|t| *t < minute_start + 60)
        .filter_map(|t| u64::try_from(t - minute_start).ok())
        .map(Duration::from_secs)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_made_from_its_bytes_and_adds_up() {
        let made = order(&[1, 2, 3, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2]);
        assert_eq!(made.customer.name, "Grace Hopper");
        assert_eq!(made.customer.email, "grace@example.com");
        assert_eq!(made.order_id, "ord_0123456789A2");
        assert_eq!(made.customer.id, "cus_23456789");
        assert_eq!(made.currency, "GBP");
        let skus: Vec<&str> = made.line_items.iter().map(|l| l.sku).collect();
        assert_eq!(skus, ["SKU-CAP-04", "SKU-NTB-05", "SKU-MUG-01"]);
        let quantities: Vec<u32> = made.line_items.iter().map(|l| l.quantity).collect();
        assert_eq!(quantities, [2, 1, 2]);
        assert_eq!(made.total, 2 * 1999 + 899 + 2 * 1299);
        assert!(made.sample);
        let other = order(&[0; 16]);
        assert_eq!(other.line_items.len(), 1);
        assert_eq!(other.total, 1299);
    }

    #[test]
    fn a_minute_holds_the_periods_that_fall_in_it() {
        let secs = |v: Vec<Duration>| v.iter().map(Duration::as_secs).collect::<Vec<_>>();
        let minute = 1_767_225_600; // 2026-01-01T00:00:00Z, a multiple of 3600
        assert_eq!(
            secs(offsets(5, minute)),
            (0..12).map(|k| k * 5).collect::<Vec<_>>()
        );
        assert_eq!(secs(offsets(7, minute)), [0, 7, 14, 21, 28, 35, 42, 49, 56]);
        assert_eq!(
            secs(offsets(7, minute + 60)),
            [3, 10, 17, 24, 31, 38, 45, 52, 59]
        );
        assert_eq!(secs(offsets(60, minute + 120)), [0]);
        assert_eq!(secs(offsets(300, minute)), [0]);
        assert!(offsets(300, minute + 60).is_empty());
        assert_eq!(secs(offsets(300, minute + 300)), [0]);
        assert_eq!(secs(offsets(1, minute)).len(), 12, "held to 5 s at least");
        assert_eq!(
            secs(offsets(5, minute + 17)),
            secs(offsets(5, minute)),
            "by its minute"
        );
    }
}
