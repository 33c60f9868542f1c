//! Where a URL a user supplied (their own LLM endpoint, a workflow's HTTP step) may send the
//! server: public addresses only, unless the administrator listed the host
//! (`PYAIRTABLE_LLM_ALLOWED_HOSTS`, `PYAIRTABLE_WORKFLOW_ALLOWED_HOSTS`). Names are checked after DNS
//! resolution, at connection time, so that a name can't lead to a loopback, private,
//! link-local or metadata address; literal IP hosts, which are never resolved, are checked
//! before sending.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Hosts the administrator allows users' endpoints to reach even when they are local or
/// private, such as an Ollama on the same machine. Cheap to clone; empty by default.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Arc<Vec<AllowedHost>>);

/// One entry: a host name or an IP address, on any port or on one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    host: HostKey,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostKey {
    /// Lower case, without a trailing dot.
    Name(String),
    Ip(IpAddr),
}

impl AllowedHosts {
    /// Reads a comma-separated list of entries such as `ollama`, `127.0.0.1`,
    /// `localhost:11434`, `::1` or `[::1]:8080`; blank entries are skipped.
    ///
    /// # Errors
    /// The first entry that is neither a host name nor an IP address, with an optional port.
    pub fn parse(text: &str) -> Result<Self, String> {
        let entries = text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| AllowedHost::parse(entry).ok_or_else(|| entry.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(Arc::new(entries)))
    }

    /// Whether `url`'s host, as written, is listed (on its port, when the entry names one).
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url_host(url) else {
            return false;
        };
        let port = url.port_or_known_default();
        self.0
            .iter()
            .any(|entry| entry.host == host && entry.port.is_none_or(|p| Some(p) == port))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl AllowedHost {
    fn parse(entry: &str) -> Option<Self> {
        if let Ok(ip) = entry.parse::<IpAddr>() {
            return Some(Self {
                host: HostKey::Ip(ip),
                port: None,
            });
        }
        if let Ok(address) = entry.parse::<SocketAddr>() {
            return Some(Self {
                host: HostKey::Ip(address.ip()),
                port: Some(address.port()),
            });
        }
        if let Some(ip) = entry
            .strip_prefix('[')
            .and_then(|e| e.strip_suffix(']'))
            .and_then(|e| e.parse::<Ipv6Addr>().ok())
        {
            return Some(Self {
                host: HostKey::Ip(IpAddr::V6(ip)),
                port: None,
            });
        }
        let (name, port) = match entry.rsplit_once(':') {
            Some((name, port)) => (name, Some(port.parse::<u16>().ok()?)),
            None => (entry, None),
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let valid = !name.is_empty()
            && name.len() <= 253
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        valid.then_some(Self {
            host: HostKey::Name(name),
            port,
        })
    }
}

/// The URL's host as an allow-list key; the `url` crate has already turned forms such as
/// `2130706433` or `0x7f.1` into the IPv4 address they mean.
fn url_host(url: &Url) -> Option<HostKey> {
    Some(match url.host()? {
        Host::Domain(name) => HostKey::Name(name.trim_end_matches('.').to_ascii_lowercase()),
        Host::Ipv4(ip) => HostKey::Ip(IpAddr::V4(ip)),
        Host::Ipv6(ip) => HostKey::Ip(IpAddr::V6(ip)),
    })
}

/// Why a user's endpoint was not called: its address is local, private or reserved.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the endpoint's address is local, private or reserved, and it is not in the allowed hosts")]
pub(crate) struct Blocked;

/// How a request to a user's endpoint goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Listed by the administrator: sent to whatever the host resolves to.
    Allowed,
    /// Sent through the resolver that drops every address that is not public.
    PublicOnly,
}

/// The route for a request to `url` from a user's settings, before any connection is made.
///
/// # Errors
/// `Blocked` for a literal IP host that is not public (the resolver never sees those), or a
/// URL without a host.
pub(crate) fn route(url: &Url, allowed: &AllowedHosts) -> Result<Route, Blocked> {
    if allowed.allows(url) {
        return Ok(Route::Allowed);
    }
    match url_host(url) {
        Some(HostKey::Ip(ip)) if is_public(ip) => Ok(Route::PublicOnly),
        Some(HostKey::Name(_)) => Ok(Route::PublicOnly),
        _ => Err(Blocked),
    }
}

/// The check made when a user saves an endpoint: [`route`], then the name resolved now. A name
/// that doesn't resolve yet is let through; the resolver checks it again on every connection.
///
/// # Errors
/// `Blocked` when the address, or every address the name resolves to, is not public.
pub(crate) async fn check_now(url: &Url, allowed: &AllowedHosts) -> Result<(), Blocked> {
    if route(url, allowed)? == Route::Allowed {
        return Ok(());
    }
    let Some(Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    match tokio::net::lookup_host((name, port)).await {
        Ok(addresses) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if addresses.is_empty() || addresses.iter().any(|a| is_public(a.ip())) {
                Ok(())
            } else {
                Err(Blocked)
            }
        }
        Err(_) => Ok(()),
    }
}

/// Whether the resolver refused every address of a URL's host name.
pub(crate) fn is_blocked(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(cause) = source {
        if cause.downcast_ref::<Blocked>().is_some() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// A DNS resolver that keeps only public addresses, so a connection can't be made to any other.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = resolved.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(Blocked) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an ordinary public unicast address: not loopback, private (RFC 1918,
/// fc00::/7), link-local (169.254/16 with the cloud metadata services, fe80::/10), CGNAT
/// (100.64/10), unspecified, broadcast, multicast or otherwise reserved, nor one of those
/// inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 IPv6 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0 // "this network", 0.0.0.0 included
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT, Alibaba's metadata at 100.100.100.200
        || (a == 169 && b == 254) // link-local, the metadata services at 169.254.169.254
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, Oracle's 192.0.0.192
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 224; // multicast, reserved, and 255.255.255.255
    !reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |high: usize| {
        let [a, b] = segments[high].to_be_bytes();
        let [c, d] = segments[high + 1].to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // IPv4-compatible ::a.b.c.d (deprecated, but some stacks still route it); :: and ::1 too.
    if segments[..6].iter().all(|s| *s == 0) {
        return segments[6] != 0 && is_public_v4(embedded_v4(6));
    }
    // NAT64 (64:ff9b::/96) reaches the IPv4 address inside it.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(6));
    }
    // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits.
    if segments[0] == 0x2002 {
        return is_public_v4(embedded_v4(1));
    }
    let first = segments[0];
    let reserved = (first & 0xfe00) == 0xfc00 // unique local fc00::/7, AWS's fd00:ec2::254
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (first & 0xff00) == 0xff00 // multicast
        || (segments[..4] == [0x100, 0, 0, 0]) // discard-only 100::/64
        || (first == 0x2001 && segments[1] == 0xdb8); // documentation
    !reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_not_public() {
        for text in [
            "127.0.0.1",
            "127.255.0.9",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.192",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
        ] {
            assert!(!is_public(ip(text)), "{text}");
        }
    }

    #[test]
    fn private_ipv4_inside_ipv6_forms_is_not_public() {
        for text in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(ip(text)), "{text}");
        }
    }

    #[test]
    fn ordinary_public_addresses_are_public() {
        for text in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "169.253.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert!(is_public(ip(text)), "{text}");
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn literal_ip_hosts_are_refused_before_any_connection_in_every_spelling() {
        let none = AllowedHosts::default();
        for text in [
            "http://127.0.0.1:11434/v1",
            "http://169.254.169.254/latest",
            "http://10.0.0.1/v1",
            "http://[::1]:8080/v1",
            "http://[::ffff:7f00:1]/v1",
            "http://2130706433/v1",
            "http://0x7f.1/v1",
            "http://0/v1",
        ] {
            assert!(route(&url(text), &none).is_err(), "{text}");
        }
        assert_eq!(
            route(&url("https://8.8.8.8/v1"), &none).unwrap(),
            Route::PublicOnly
        );
        assert_eq!(
            route(&url("https://api.openai.com/v1"), &none).unwrap(),
            Route::PublicOnly,
            "names are checked once resolved"
        );
    }

    #[test]
    fn listed_hosts_are_allowed_on_any_port_or_on_the_one_given() {
        let allowed =
            AllowedHosts::parse(" 127.0.0.1 , Ollama:11434,[::1]:8080,, 10.0.0.5:443 ").unwrap();
        assert_eq!(
            route(&url("http://127.0.0.1:9/v1"), &allowed).unwrap(),
            Route::Allowed
        );
        assert_eq!(
            route(&url("http://ollama:11434/v1"), &allowed).unwrap(),
            Route::Allowed
        );
        assert_eq!(
            route(&url("http://ollama:11435/v1"), &allowed).unwrap(),
            Route::PublicOnly,
            "the resolver still checks it"
        );
        assert_eq!(
            route(&url("http://[::1]:8080/v1"), &allowed).unwrap(),
            Route::Allowed
        );
        assert!(route(&url("http://[::1]:8081/v1"), &allowed).is_err());
        assert_eq!(
            route(&url("https://10.0.0.5/v1"), &allowed).unwrap(),
            Route::Allowed,
            "443 is https's own port"
        );
        assert!(route(&url("http://127.0.0.2/v1"), &allowed).is_err());
    }

    #[test]
    fn malformed_allowed_hosts_are_named() {
        assert_eq!(
            AllowedHosts::parse("ollama, http://x").unwrap_err(),
            "http://x"
        );
        assert_eq!(
            AllowedHosts::parse("ollama:port").unwrap_err(),
            "ollama:port"
        );
        assert!(AllowedHosts::parse("").unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_at_save_time_and_by_the_resolver() {
        let none = AllowedHosts::default();
        assert!(
            check_now(&url("http://localhost:11434/v1"), &none)
                .await
                .is_err()
        );
        assert!(
            check_now(
                &url("http://localhost:11434/v1"),
                &AllowedHosts::parse("localhost").unwrap()
            )
            .await
            .is_ok()
        );
        let name: Name = "localhost".parse().unwrap();
        assert!(PublicOnly.resolve(name).await.is_err());
    }
}
