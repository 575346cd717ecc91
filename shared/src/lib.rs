//! Everything the rusthook Lambda functions share. Handlers stay thin: they parse, make one call
//! in here and map the result. `docs/ARCHITECTURE.md` draws the whole picture.
//!
//! Layers, one folder each, imports pointing down only:
//! - `model`: the records, as stored and shown (no imports of ours);
//! - `domain`: pure rules: event types and routing, names, retry, signatures, secrets, the
//!   target policy (imports `model`);
//! - `ports`: the traits the use-cases need, by capability: stores, queue, sender, resolver,
//!   secret source (imports `model`, `domain`);
//! - `api`: the HTTP API's use-cases, one file per resource, their request and response types
//!   (`api::wire`), the caller (`api::auth`) and their error (`api::error`); `delivery`:
//!   fan-out, one attempt, settling a batch (both import the three above);
//! - `http`: the route table, requests, responses, problem+json (the one error → status match)
//!   and the generated OpenAPI document (imports `api`).
//!
//! `adapters` implement the ports (DynamoDB, SQS, reqwest, DNS, Secrets Manager, memory);
//! `wiring` (configuration, the AWS clients, logging: what `main.rs` calls) is the only place
//! above them that names one.

pub mod adapters;
pub mod api;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod model;
pub mod portal;
pub mod ports;
pub mod wiring;

/// The name this project sends as `User-Agent` and shows in its responses.
pub const PRODUCT: &str = concat!("rusthook/", env!("CARGO_PKG_VERSION"));
