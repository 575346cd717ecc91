//! The rules of the product, free of I/O.

pub mod activity;
pub mod contention;
pub mod event_type;
pub mod headers;
pub mod json_text;
pub mod names;
pub mod retry;
pub mod sample_orders;
pub mod secrets;
pub mod signature;
pub mod target;
pub mod text;
pub mod throttle;
