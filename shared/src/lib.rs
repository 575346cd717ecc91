//! Everything the rusthook Lambda functions share. Handlers stay thin: they parse, make one call
//! in here and map the result.
//!
//! Layers, imports pointing down: `model` (records) → `domain` (pure rules: event types, retry,
//! signatures, secrets, target policy) → `ports` (store, queue, sender, resolver, secret traits)
//! → `api` (the HTTP API's use-cases, one file per resource) and `delivery` (fan-out, attempts,
//! SQS batches) → `http` (routing, problem+json). `adapters` implement the ports (DynamoDB, SQS,
//! reqwest, DNS, Secrets Manager, memory); only `aws` (the wiring `main.rs` calls) names them.
//! Beside them: `auth` (the caller, and the authorizer's context), `config`, `error`, `logging`.

pub mod adapters;
pub mod api;
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
