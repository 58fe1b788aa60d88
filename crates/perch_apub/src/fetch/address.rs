//! Which IP addresses an outbound federation request may reach.
//!
//! A remote server names its own URLs, so without this check any actor could
//! make us fetch from our own loopback, the cloud metadata endpoint or the
//! private network behind us. The ranges come from the IANA IPv4 and IPv6
//! special-purpose address registries, plus the blocks that are not
//! allocated for global unicast at all.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is a globally routable unicast address that a remote server
/// may legitimately have.
///
/// IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64 `64:ff9b::/96`,
/// 6to4 `2002::/16`) are judged by the embedded IPv4 address, since that is
/// what a connection to them reaches.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// IPv4 blocks that are not globally reachable, as (network, prefix length).
const NON_PUBLIC_V4: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network", including 0.0.0.0
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, including cloud metadata endpoints
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, including 255.255.255.255 broadcast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let ip = u32::from(ip);
    !NON_PUBLIC_V4.iter().any(|&(network, prefix)| {
        let mask = u32::MAX << (32 - u32::from(prefix));
        ip & mask == u32::from_be_bytes(network)
    })
}

/// IPv6 blocks inside global unicast `2000::/3` that are not globally
/// reachable, as (network, prefix length). Everything outside `2000::/3`
/// is refused anyway (apart from the forms carrying IPv4, handled first).
const NON_PUBLIC_V6_IN_GLOBAL: &[(u128, u8)] = &[
    // IETF protocol assignments: Teredo, benchmarking, ORCHID… The few
    // anycast services in it that are globally reachable (PCP, TURN, AMT,
    // AS112) are never fediverse servers.
    (0x2001_0000 << 96, 23),
    (0x2001_0db8 << 96, 32), // documentation
    (0x3fff_0000 << 96, 20), // documentation (RFC 9637)
];

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let bits = u128::from(ip);
    // NAT64 well-known prefix: the last 32 bits are the IPv4 destination.
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        return is_public_v4(Ipv4Addr::from(bits as u32));
    }
    // 6to4: the 32 bits after the prefix are the IPv4 tunnel end point.
    if bits >> 112 == 0x2002 {
        return is_public_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    // Only 2000::/3 is allocated for global unicast. This leaves out
    // unspecified, loopback, IPv4-compatible (deprecated, never routed),
    // IPv4-translated, discard-only 100::/64, local-use NAT64
    // 64:ff9b:1::/48, SRv6 5f00::/16, unique-local fc00::/7, link-local
    // fe80::/10, site-local fec0::/10 and multicast ff00::/8.
    if bits >> 125 != 0b001 {
        return false;
    }
    !NON_PUBLIC_V6_IN_GLOBAL.iter().any(|&(network, prefix)| {
        let mask = u128::MAX << (128 - u32::from(prefix));
        bits & mask == network
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        let cases: &[(&str, bool)] = &[
            // IPv4, not public
            ("0.0.0.0", false),
            ("0.1.2.3", false),
            ("10.0.0.1", false),
            ("10.255.255.255", false),
            ("100.64.0.1", false),
            ("100.127.255.255", false),
            ("127.0.0.1", false),
            ("127.8.9.10", false),
            ("169.254.169.254", false),
            ("172.16.0.1", false),
            ("172.31.255.255", false),
            ("192.0.0.1", false),
            ("192.0.0.170", false),
            ("192.0.2.1", false),
            ("192.88.99.1", false),
            ("192.168.1.1", false),
            ("198.18.0.1", false),
            ("198.19.255.255", false),
            ("198.51.100.7", false),
            ("203.0.113.9", false),
            ("224.0.0.1", false),
            ("239.255.255.250", false),
            ("240.0.0.1", false),
            ("255.255.255.255", false),
            // IPv4, public (including the neighbours of the ranges above)
            ("1.1.1.1", true),
            ("8.8.8.8", true),
            ("9.255.255.255", true),
            ("11.0.0.1", true),
            ("100.63.255.255", true),
            ("100.128.0.1", true),
            ("126.255.255.255", true),
            ("128.0.0.1", true),
            ("169.253.0.1", true),
            ("172.15.255.255", true),
            ("172.32.0.1", true),
            ("192.0.1.1", true),
            ("192.0.3.1", true),
            ("192.167.0.1", true),
            ("192.169.0.1", true),
            ("198.17.255.255", true),
            ("198.20.0.1", true),
            ("198.51.101.1", true),
            ("203.0.114.1", true),
            ("223.255.255.255", true),
            // IPv6, not public
            ("::", false),
            ("::1", false),
            ("::7f00:1", false),
            ("::808:808", false),
            ("::ffff:0:808:808", false),
            ("100::1", false),
            ("64:ff9b:1::1", false),
            ("2001::1", false),
            ("2001:2::1", false),
            ("2001:db8::1", false),
            ("2001:db8:ffff::1", false),
            ("3fff::1", false),
            ("5f00::1", false),
            ("fc00::1", false),
            ("fd12:3456::1", false),
            ("fe80::1", false),
            ("febf::1", false),
            ("fec0::1", false),
            ("ff02::1", false),
            ("ff0e::1", false),
            // IPv6 carrying IPv4: judged by the IPv4 address
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:169.254.169.254", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::7f00:1", false),
            ("64:ff9b::a00:1", false),
            ("64:ff9b::808:808", true),
            ("2002:7f00:1::1", false),
            ("2002:c0a8:101::1", false),
            ("2002:808:808::1", true),
            // IPv6, public
            ("2001:200::1", true),
            ("2001:4860:4860::8888", true),
            ("2001:db9::1", true),
            ("2606:4700:4700::1111", true),
            ("2a00:1450:4001::1", true),
            ("2c0f:f248::1", true),
        ];
        for &(text, public) in cases {
            let ip: IpAddr = text.parse().expect("test address");
            assert_eq!(is_public_address(ip), public, "{text}");
        }
    }
}
