//! Host name resolution, for the target policy's check (`domain::target`).

use std::net::IpAddr;

/// Resolves host names; the real one asks DNS (`adapters::resolver`), tests use a table.
pub trait Resolver: Send + Sync {
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl std::future::Future<Output = Vec<IpAddr>> + Send;
}
