//! `devstack`: what AWS runs around the functions, rebuilt on loopback for `make dev` and the
//! tests — the tables and queues of `template.yaml`, Lambda's event source mappings, and an
//! HTTP API gateway that routes like API Gateway.

pub mod authorizer;
pub mod bridge;
pub mod gateway;
pub mod invoke;
pub mod provision;
pub mod resolve;
pub mod sam_env;
pub mod samples;
pub mod schedule;
pub mod template;
