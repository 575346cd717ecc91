//! Where webhooks may be sent. A target URL is `https` (or `http` when the deployment allows it),
//! carries no credentials, is at most 2 KB, and its host is, and resolves only to, public
//! (globally routable) addresses, unless an address falls in a CIDR the deployment explicitly
//! allows (local development allows loopback, and nothing else). The same check runs when a
//! subscription is saved and before each delivery connects.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

pub const MAX_URL_LEN: usize = 2048;

/// The deployment's policy for target URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Accept `http://` targets (local development only).
    pub allow_http: bool,
    /// Non-public addresses that are nonetheless allowed (e.g. `127.0.0.1/32` locally).
    pub allowed_cidrs: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("must be an absolute URL")]
    NotAUrl,
    #[error("must be at most {MAX_URL_LEN} characters")]
    TooLong,
    #[error("must use https")]
    SchemeNotAllowed,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must have a host name or address")]
    NoHost,
    #[error("host {0} is not a public address")]
    NonPublicAddress(IpAddr),
    #[error("host does not resolve")]
    Unresolvable,
}

impl TargetPolicy {
    /// Reads `ALLOW_HTTP_TARGETS` (`true`/`false`) and `ALLOWED_TARGET_CIDRS` (comma separated).
    ///
    /// # Errors
    /// A value does not parse; the message names the variable.
    pub fn from_values(allow_http: Option<&str>, cidrs: Option<&str>) -> Result<Self, String> {
        let allow_http = match allow_http.map(str::trim) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                return Err(format!(
                    "ALLOW_HTTP_TARGETS must be true or false, not {other}"
                ));
            }
        };
        let allowed_cidrs = cidrs
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.parse::<IpNet>()
                    .map_err(|_| format!("ALLOWED_TARGET_CIDRS: {c} is not a CIDR"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            allow_http,
            allowed_cidrs,
        })
    }

    /// Whether a connection to `address` is allowed.
    #[must_use]
    pub fn address_allowed(&self, address: IpAddr) -> bool {
        is_public(address)
            || self
                .allowed_cidrs
                .iter()
                .any(|net| net.contains(&canonical(address)))
    }

    /// Checks everything but the host's addresses; returns the parsed URL.
    ///
    /// # Errors
    /// The URL breaks a rule.
    pub fn check_syntax(&self, text: &str) -> Result<Url, TargetError> {
        if text.len() > MAX_URL_LEN {
            return Err(TargetError::TooLong);
        }
        let url = Url::parse(text).map_err(|_| TargetError::NotAUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(TargetError::SchemeNotAllowed),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        if url.host().is_none() {
            return Err(TargetError::NoHost);
        }
        Ok(url)
    }

    /// Checks a URL fully and returns the addresses a client may connect to (every address the
    /// host resolves to must be allowed, so a name with one private record is refused).
    ///
    /// # Errors
    /// The URL breaks a rule, or its host resolves to nothing or to a refused address.
    /// `resolve` gives a host name's addresses (DNS, behind the `Resolver` port), so the rule
    /// itself does no I/O.
    pub async fn check<F, Fut>(
        &self,
        text: &str,
        resolve: F,
    ) -> Result<(Url, Vec<IpAddr>), TargetError>
    where
        F: FnOnce(String, u16) -> Fut,
        Fut: std::future::Future<Output = Vec<IpAddr>>,
    {
        let url = self.check_syntax(text)?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses = match url.host() {
            Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(Host::Domain(name)) => resolve(name.to_owned(), port).await,
            None => return Err(TargetError::NoHost),
        };
        if addresses.is_empty() {
            return Err(TargetError::Unresolvable);
        }
        if let Some(refused) = addresses.iter().find(|a| !self.address_allowed(**a)) {
            return Err(TargetError::NonPublicAddress(*refused));
        }
        Ok((url, addresses))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// Whether `address` is globally routable (IANA special-purpose registries), looking through
/// IPv6 forms that embed an IPv4 address.
#[must_use]
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network"
        || a == 10                             // private
        || a == 127                            // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT (incl. 100.100.100.200 metadata)
        || (a == 169 && b == 254)              // link-local (incl. 169.254.169.254 metadata)
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        let [h1, h2] = high.to_be_bytes();
        let [l1, l2] = low.to_be_bytes();
        Ipv4Addr::new(h1, h2, l1, l2)
    };
    match segments {
        [0, 0, 0, 0, 0, 0, 0, _] => false, // ::, ::1, IPv4-compatible
        [0x64, 0xff9b, 0, 0, 0, 0, h, l] => is_public_v4(embedded_v4(h, l)), // NAT64
        [0x64, 0xff9b, 1, ..] => false,    // local-use NAT64
        [0x0100, 0, 0, 0, ..] => false,    // discard-only
        [0x2001, 0x0db8, ..] => false,     // documentation
        [0x2001, s, ..] if s < 0x0200 => false, // IETF protocol assignments, Teredo
        [0x2002, h, l, ..] => is_public_v4(embedded_v4(h, l)), // 6to4
        [first, ..] if first & 0xfe00 == 0xfc00 => false, // unique local (incl. fd00:ec2::254)
        [first, ..] if first & 0xffc0 == 0xfe80 => false, // link-local
        [first, ..] if first & 0xffc0 == 0xfec0 => false, // site-local (deprecated)
        [first, ..] if first & 0xff00 == 0xff00 => false, // multicast
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Table(HashMap<&'static str, Vec<IpAddr>>);

    fn resolver() -> Table {
        Table(HashMap::from([
            ("hooks.example.com", vec!["93.184.215.14".parse().unwrap()]),
            (
                "evil.example.com",
                vec![
                    "93.184.215.14".parse().unwrap(),
                    "127.0.0.1".parse().unwrap(),
                ],
            ),
            (
                "metadata.example.com",
                vec!["169.254.169.254".parse().unwrap()],
            ),
            ("localhost", vec!["127.0.0.1".parse().unwrap()]),
        ]))
    }

    async fn check(policy: &TargetPolicy, url: &str) -> Result<(), TargetError> {
        let table = resolver();
        policy
            .check(url, |host, _port| async move {
                table.0.get(host.as_str()).cloned().unwrap_or_default()
            })
            .await
            .map(|_| ())
    }

    #[tokio::test]
    async fn public_https_targets_pass() {
        let policy = TargetPolicy::default();
        assert_eq!(
            check(&policy, "https://hooks.example.com/webhooks?x=1").await,
            Ok(())
        );
        assert_eq!(check(&policy, "https://8.8.8.8/hook").await, Ok(()));
        assert_eq!(
            check(&policy, "https://[2606:4700:4700::1111]/hook").await,
            Ok(())
        );
    }

    #[tokio::test]
    async fn refused_targets() {
        let policy = TargetPolicy::default();
        let cases = [
            ("http://hooks.example.com/", TargetError::SchemeNotAllowed),
            ("ftp://hooks.example.com/", TargetError::SchemeNotAllowed),
            (
                "https://user:pw@hooks.example.com/",
                TargetError::Credentials,
            ),
            ("https://user@hooks.example.com/", TargetError::Credentials),
            ("hooks.example.com/path", TargetError::NotAUrl),
            ("https://nowhere.invalid/", TargetError::Unresolvable),
            (
                "https://evil.example.com/",
                TargetError::NonPublicAddress("127.0.0.1".parse().unwrap()),
            ),
            (
                "https://metadata.example.com/",
                TargetError::NonPublicAddress("169.254.169.254".parse().unwrap()),
            ),
            (
                "https://localhost/",
                TargetError::NonPublicAddress("127.0.0.1".parse().unwrap()),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(check(&policy, url).await, Err(expected), "{url}");
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(check(&policy, &long).await, Err(TargetError::TooLong));
    }

    #[tokio::test]
    async fn address_spellings_that_hide_private_hosts_are_refused() {
        let policy = TargetPolicy::default();
        for url in [
            "https://127.0.0.1/",
            "https://2130706433/", // decimal 127.0.0.1
            "https://0x7f000001/", // hex
            "https://0177.0.0.1/", // octal
            "https://127.1/",      // short form
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/", // IPv4-mapped
            "https://[::ffff:7f00:1]/",
            "https://[64:ff9b::a9fe:a9fe]/", // NAT64 of 169.254.169.254
            "https://[2002:a00:1::]/",       // 6to4 of 10.0.0.1
            "https://169.254.169.254/latest/meta-data/",
            "https://[fd00:ec2::254]/",
            "https://100.100.100.200/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://224.0.0.1/",
            "https://255.255.255.255/",
            "https://[fe80::1]/",
            "https://[ff02::1]/",
        ] {
            assert!(
                matches!(
                    check(&policy, url).await,
                    Err(TargetError::NonPublicAddress(_))
                ),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn development_settings_allow_exactly_what_they_list() {
        let policy = TargetPolicy::from_values(Some("true"), Some("127.0.0.0/8, ::1/128")).unwrap();
        assert_eq!(check(&policy, "http://127.0.0.1:8080/hook").await, Ok(()));
        assert_eq!(check(&policy, "http://localhost:8080/hook").await, Ok(()));
        assert_eq!(check(&policy, "http://[::1]:8080/hook").await, Ok(()));
        assert_eq!(
            check(&policy, "http://[::ffff:127.0.0.1]:8080/hook").await,
            Ok(())
        );
        for url in [
            "http://10.0.0.1/",
            "http://169.254.169.254/",
            "http://192.168.0.1/",
            "http://metadata.example.com/",
        ] {
            assert!(
                matches!(
                    check(&policy, url).await,
                    Err(TargetError::NonPublicAddress(_))
                ),
                "{url}"
            );
        }
        assert!(TargetPolicy::from_values(Some("yes"), None).is_err());
        assert!(
            TargetPolicy::from_values(None, Some("127.0.0.1")).is_err(),
            "a bare address is not a CIDR"
        );
    }
}
