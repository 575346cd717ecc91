//! What the code relies on, checked in `template.yaml` (and `samconfig.toml`) itself: the things
//! `sam validate --lint` cannot know (which variables a function reads, that the queue's receive
//! count is the retry schedule's attempts, that `FunctionResponseTypes` is a value Lambda accepts
//! — cfn-lint lets an invalid one through). Routes are checked in routes.rs, local resources
//! against these definitions in local_stack.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;
mod functions;
mod resources;
mod support;
