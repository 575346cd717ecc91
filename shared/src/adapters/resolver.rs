//! DNS through the operating system.

use crate::ports::resolver::Resolver;
use std::net::IpAddr;

/// DNS through the operating system (`getaddrinfo`, on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> Vec<IpAddr> {
        match tokio::net::lookup_host((host, port)).await {
            Ok(addresses) => addresses.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        }
    }
}
