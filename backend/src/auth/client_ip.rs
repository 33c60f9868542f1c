//! The address a request comes from: the socket peer, or, when that peer is a trusted reverse
//! proxy, the address the proxy says it forwarded for. Login throttling and registration limits
//! key on it, so behind a proxy they see each client rather than the proxy.

use std::net::IpAddr;

/// The resolved client address of a request, put in its extensions by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// One network, written `10.0.0.0/8`, `fd00::/8`, or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    /// Reads a CIDR block or a single address; `None` when it is neither.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().ok()?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { address, prefix })
    }

    /// Whether `ip` is inside this network. An IPv4 address mapped into IPv6 counts as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.address, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The reverse proxies whose forwarding headers are believed; empty by default, so that
/// nobody can choose the address they are throttled by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Reads a comma-separated list of CIDR blocks or addresses.
    ///
    /// # Errors
    /// The first entry that is neither.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| Network::parse(entry).ok_or_else(|| entry.to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client behind `peer`. Only a trusted peer's headers count: the `X-Forwarded-For`
    /// values (or, without them, `Forwarded`) are read from the right, skipping trusted
    /// proxies, and the first address that is not one is the client. Everything to its left
    /// was written by the client and is ignored.
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl IntoIterator<Item = &'a str>,
        forwarded: impl IntoIterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops: Vec<Option<IpAddr>> =
            forwarded_for.into_iter().flat_map(|value| value.split(',')).map(parse_hop).collect();
        if hops.is_empty() {
            hops = forwarded.into_iter().flat_map(forwarded_hops).collect();
        }
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            // A hop that is not an address can't be followed further: the last trusted one is
            // as close to the client as is known.
            let Some(ip) = hop else { break };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly in brackets or with a port.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    // IPv4 with a port; an IPv6 address without brackets has parsed above already.
    text.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// The `for=` addresses of one `Forwarded` header value (RFC 7239), in order.
fn forwarded_hops(value: &str) -> Vec<Option<IpAddr>> {
    value
        .split(',')
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| parse_hop(value))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies(text: &str) -> TrustedProxies {
        TrustedProxies::parse(text).unwrap()
    }

    #[test]
    fn networks_hold_the_addresses_their_prefix_covers() {
        let net = Network::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.200.3.4")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(Network::parse("127.0.0.1").unwrap().contains(ip("::ffff:127.0.0.1")));
        assert!(Network::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(!Network::parse("fd00::/8").unwrap().contains(ip("10.0.0.1")));
        assert!(Network::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0/8", "::/129", "10.0.0.0/x"] {
            assert!(Network::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(TrustedProxies::parse("10.0.0.0/8, nonsense"), Err("nonsense".to_owned()));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("203.0.113.9"), ["198.51.100.1"], []), ip("203.0.113.9"));
        let some = proxies("10.0.0.0/8");
        assert_eq!(some.client_ip(ip("203.0.113.9"), ["198.51.100.1"], ["for=198.51.100.2"]), ip("203.0.113.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies("127.0.0.1, 10.0.0.0/8");
        // The client put a fake address first; the proxy appended the real one.
        let headers = ["1.2.3.4, 198.51.100.7", "10.0.0.5"];
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), headers, []), ip("198.51.100.7"));
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), ["198.51.100.7:5123"], []), ip("198.51.100.7"));
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), ["[2001:db8::7]:443"], []), ip("2001:db8::7"));
        // No header: the proxy itself.
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), [], []), ip("127.0.0.1"));
        // Every hop trusted: the leftmost.
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), ["10.1.1.1, 10.2.2.2"], []), ip("10.1.1.1"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), ["198.51.100.7, garbage, 10.0.0.9"], []), ip("10.0.0.9"));
    }

    #[test]
    fn the_forwarded_header_counts_when_x_forwarded_for_is_absent() {
        let trusted = proxies("127.0.0.1");
        let forwarded = [r#"for=1.2.3.4, for="[2001:db8::9]:443";proto=https"#];
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), [], forwarded), ip("2001:db8::9"));
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), [], ["for=unknown"]), ip("127.0.0.1"));
        assert_eq!(trusted.client_ip(ip("127.0.0.1"), ["198.51.100.7"], ["for=1.2.3.4"]), ip("198.51.100.7"));
    }
}
