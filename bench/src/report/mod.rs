//! The results of a bench run: what was measured on which machine, the targets, and the
//! Markdown summary.

mod markdown;
mod results;
mod targets;

pub use markdown::markdown;
pub use results::{Machine, Report};
pub(crate) use results::{bytes_mb, git_commit, git_dirty, machine};
pub(crate) use targets::targets;
