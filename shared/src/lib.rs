//! Everything the rusthook Lambda functions share: configuration, errors, the HTTP problem
//! format and the AWS SDK set-up. Handlers stay thin: they parse, make one call in here and map
//! the result.

pub mod adapters;
pub mod api;
pub mod auth;
pub mod aws;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod error;
pub mod http;
pub mod logging;
pub mod model;
pub mod ports;

/// The name this project sends as `User-Agent` and shows in its responses.
pub const PRODUCT: &str = concat!("rusthook/", env!("CARGO_PKG_VERSION"));
