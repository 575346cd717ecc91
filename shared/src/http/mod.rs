//! The HTTP edge of the API functions: the route table, reading requests, writing JSON and
//! problem+json responses (the one error → status match), and the generated OpenAPI document.

mod caller;
mod finish;
pub mod openapi;
mod problem;
mod request;
mod response;
pub mod routes;

pub use caller::{Grant, grant, vouched_caller};
pub use finish::answer;
pub use problem::{ProblemBody, ProblemKind, error_response, problem, problem_kind};
pub use request::{MAX_BODY_BYTES, has_body, header, header_raw, json_body, origin, page, query};
pub use response::{JSON, PROBLEM_JSON, json, no_content, ok};
pub use routes::{Access, Function, Matched, Operation, ROUTES, Route, route};
