//! What a function's `main.rs` calls: its configuration from the environment, the AWS clients
//! and the adapters built on them (the only place above `adapters/` that names one), and
//! logging.

pub mod aws;
pub mod config;
pub mod logging;
pub mod samples;
