//! The client's address, for the per-address rate limits.
//!
//! Behind a reverse proxy every request arrives from the proxy's address,
//! so keying limits on the TCP peer would put all users in one budget. A
//! proxy passes the address it received the request from in
//! `X-Forwarded-For`, appending it to whatever the client sent; only the
//! entries appended by proxies we trust are facts, the rest may be forged.
//!
//! So: when the peer is a trusted proxy, the header is read from the right,
//! skipping the addresses of trusted proxies (a chain of them), and the
//! first address that is not one is the client. Otherwise the peer is the
//! client and the header is ignored.
//!
//! By default only loopback is trusted (a proxy on the same host, the
//! common set-up with Perch bound to 127.0.0.1): a loopback peer is a
//! process on this machine. Private ranges are not trusted by default, as
//! any machine of a shared private network (a cloud VPC, a container
//! network) could then choose its own address.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::{ApiError, ApiState};

/// The header proxies append the client's address to.
const FORWARDED_FOR: &str = "x-forwarded-for";
/// Entries of the header read at most: a longer chain of trusted proxies
/// than this is not a real deployment, and the header is attacker-sized.
const MAX_HOPS: usize = 32;

/// Addresses and ranges whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not an IP address or a CIDR range such as 10.0.0.0/8")]
pub struct BadProxy(pub String);

impl TrustedProxies {
    /// Nobody: the TCP peer is always the client.
    pub fn none() -> Self {
        TrustedProxies(Vec::new())
    }

    /// 127.0.0.0/8 and ::1, the default.
    pub fn loopback() -> Self {
        Self::parse("127.0.0.0/8, ::1").unwrap_or_else(|_| Self::none())
    }

    /// Addresses and CIDR ranges separated by commas or white space; an
    /// empty list trusts nobody.
    pub fn parse(text: &str) -> Result<Self, BadProxy> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
            .map(|part| {
                IpNet::from_str(part)
                    .or_else(|_| IpAddr::from_str(part).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| BadProxy(part.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The ranges, as written in the configuration.
    pub fn ranges(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// The client behind `peer`, from `headers` when `peer` is trusted.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        // Several header lines are one list, in order.
        let mut entries: Vec<&str> = headers
            .get_all(FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .collect();
        entries.reverse();
        let mut client = peer;
        for entry in entries.into_iter().take(MAX_HOPS) {
            // What a trusted proxy appended is an address; anything else
            // was sent by the client, and the last trusted hop is as far
            // as the facts go.
            let Some(hop) = parse_hop(entry) else {
                return client;
            };
            client = hop;
            if !self.contains(hop) {
                return hop;
            }
        }
        client
    }
}

impl Default for TrustedProxies {
    fn default() -> Self {
        Self::loopback()
    }
}

/// IPv4 addresses mapped into IPv6 (as dual-stack sockets report them)
/// compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// One entry of the header: an address, possibly with a port as some
/// proxies write it (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = IpAddr::from_str(entry) {
        return Some(canonical(ip));
    }
    SocketAddr::from_str(entry)
        .ok()
        .map(|addr| canonical(addr.ip()))
}

/// The client's address, as the rate limits key it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<ApiState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| ApiError::internal(&"the connection's address is unknown"))?;
        Ok(ClientIp(
            state
                .config
                .trusted_proxies
                .client_address(peer, &parts.headers),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(FORWARDED_FOR, HeaderValue::from_str(value).expect("ascii"));
        }
        headers
    }

    #[test]
    fn parses_addresses_and_ranges() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7 2001:db8::/32,").expect("ok");
        assert!(trusted.contains(ip("10.1.2.3")));
        assert!(trusted.contains(ip("192.0.2.7")));
        assert!(!trusted.contains(ip("192.0.2.8")));
        assert!(trusted.contains(ip("2001:db8:5::1")));
        assert!(trusted.contains(ip("::ffff:10.9.9.9")));
        assert_eq!(
            TrustedProxies::parse("").expect("empty"),
            TrustedProxies::none()
        );
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/8, nope"),
            Err(BadProxy("nope".to_owned()))
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        // A range written with host bits set means its network.
        let loose = TrustedProxies::parse("10.1.2.3/8").expect("ok");
        assert_eq!(loose.ranges(), vec!["10.0.0.0/8".to_owned()]);
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_header_says() {
        let trusted = TrustedProxies::loopback();
        let headers = forwarded(&["198.51.100.1"]);
        assert_eq!(
            trusted.client_address(ip("203.0.113.9"), &headers),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::none().client_address(ip("127.0.0.1"), &headers),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let trusted = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").expect("ok");
        let peer = ip("127.0.0.1");
        let at = |values: &[&str]| trusted.client_address(peer, &forwarded(values));
        assert_eq!(at(&["198.51.100.1"]), ip("198.51.100.1"));
        // The client's own entries, on the left, are not believed.
        assert_eq!(at(&["1.1.1.1, 198.51.100.1"]), ip("198.51.100.1"));
        // A chain of trusted proxies is skipped; header lines are one list.
        assert_eq!(
            at(&["1.1.1.1, 198.51.100.1", "10.0.0.2"]),
            ip("198.51.100.1")
        );
        assert_eq!(at(&["[2001:db8::5]:4711"]), ip("2001:db8::5"));
        assert_eq!(at(&["198.51.100.1:4711"]), ip("198.51.100.1"));
        // Nothing usable: the last trusted hop.
        assert_eq!(at(&[]), peer);
        assert_eq!(at(&["garbage"]), peer);
        assert_eq!(at(&["garbage, 10.0.0.2"]), ip("10.0.0.2"));
        assert_eq!(at(&["10.0.0.3, 10.0.0.2"]), ip("10.0.0.3"));
    }

    #[test]
    fn a_long_header_is_read_only_so_far() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").expect("ok");
        let mut chain = vec!["198.51.100.1".to_owned()];
        chain.extend((0..100).map(|i| format!("10.0.0.{}", i % 250)));
        let headers = forwarded(&[&chain.join(", ")]);
        let client = trusted.client_address(ip("10.0.0.1"), &headers);
        assert!(trusted.contains(client), "{client}");
    }
}
