//! The limits on sign-in and the OAuth token endpoint, against password
//! guessing and credential stuffing, over perch_core's keyed
//! [`RateLimiter`].
//!
//! [`SignInLimits`] combines one limiter per client address with one per
//! account name, so that neither one address trying many accounts nor many
//! addresses trying one account get far.

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

pub use perch_core::rate_limit::{RateLimiter, RetryAfter};

/// The limits applied to each sign-in attempt (the password form and the
/// OAuth token endpoint's password and code grants).
#[derive(Debug)]
pub struct SignInLimits {
    per_ip: RateLimiter,
    per_account: RateLimiter,
}

impl SignInLimits {
    /// Limits of `(requests, period)` per client address and per account.
    pub fn new(per_ip: (u32, Duration), per_account: (u32, Duration)) -> Self {
        Self {
            per_ip: RateLimiter::new(per_ip.0, per_ip.1),
            per_account: RateLimiter::new(per_account.0, per_account.1),
        }
    }

    /// Count one attempt from `ip`, for `account` when the request names
    /// one. The address is checked first, so that an address already refused
    /// does not also use up the account's budget.
    ///
    /// The per-account limit means anyone can slow down sign-in to an account
    /// they can name; it is kept generous for that reason, and the per-address
    /// limit does most of the work.
    pub fn check(&self, ip: IpAddr, account: Option<&str>, now: Instant) -> Result<(), RetryAfter> {
        self.per_ip.check(&ip_key(ip), now)?;
        if let Some(account) = account {
            self.per_account
                .check(&account.trim().to_lowercase(), now)?;
        }
        Ok(())
    }
}

impl Default for SignInLimits {
    /// 30 attempts per 5 minutes per address (enough for a household or an
    /// office behind one address to mistype a few times), 10 per 5 minutes
    /// per account (a person retrying their password rarely needs more; an
    /// attacker gets under 3,000 guesses a day per account).
    fn default() -> Self {
        const FIVE_MINUTES: Duration = Duration::from_secs(5 * 60);
        Self::new((30, FIVE_MINUTES), (10, FIVE_MINUTES))
    }
}

/// The key for a client address. An IPv6 host usually controls a whole /64
/// and can pick a new address from it for each request, so IPv6 addresses
/// are grouped by their /64 prefix. IPv4 addresses mapped into IPv6 (as
/// dual-stack sockets report them) are keyed as plain IPv4; otherwise they
/// would all share `::ffff:0:0`'s /64.
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                format!("{}/64", Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn ipv6_addresses_are_grouped_by_64() {
        let limits = SignInLimits::new((2, MINUTE), (100, MINUTE));
        let now = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("valid");
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("valid");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("valid");
        assert_eq!(limits.check(a, None, now), Ok(()));
        assert_eq!(limits.check(b, None, now), Ok(()));
        assert!(limits.check(a, None, now).is_err());
        assert_eq!(limits.check(other, None, now), Ok(()));
        assert_eq!(ip_key(a), "2001:db8:1:2::/64");
    }

    #[test]
    fn mapped_ipv4_is_keyed_as_ipv4() {
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("valid");
        assert_eq!(ip_key(mapped), "192.0.2.7");
        let plain: IpAddr = "192.0.2.7".parse().expect("valid");
        assert_eq!(ip_key(plain), "192.0.2.7");
    }

    #[test]
    fn account_limit_ignores_case_and_address() {
        let limits = SignInLimits::new((100, MINUTE), (2, MINUTE));
        let now = Instant::now();
        let one: IpAddr = "192.0.2.1".parse().expect("valid");
        let two: IpAddr = "198.51.100.2".parse().expect("valid");
        assert_eq!(limits.check(one, Some("Alice"), now), Ok(()));
        assert_eq!(limits.check(two, Some("alice"), now), Ok(()));
        assert!(limits.check(one, Some("ALICE"), now).is_err());
        assert_eq!(limits.check(one, Some("bob"), now), Ok(()));
        assert_eq!(limits.check(one, None, now), Ok(()));
    }

    #[test]
    fn refused_address_does_not_spend_account_budget() {
        let limits = SignInLimits::new((1, MINUTE), (2, MINUTE));
        let now = Instant::now();
        let attacker: IpAddr = "192.0.2.1".parse().expect("valid");
        let owner: IpAddr = "198.51.100.2".parse().expect("valid");
        assert_eq!(limits.check(attacker, Some("alice"), now), Ok(()));
        for _ in 0..10 {
            assert!(limits.check(attacker, Some("alice"), now).is_err());
        }
        assert_eq!(limits.check(owner, Some("alice"), now), Ok(()));
    }

    #[test]
    fn default_limits() {
        let limits = SignInLimits::default();
        let now = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().expect("valid");
        for i in 0..10 {
            assert_eq!(limits.check(ip, Some("alice"), now), Ok(()), "attempt {i}");
        }
        let refused = limits.check(ip, Some("alice"), now).expect_err("11th");
        // 10 per 5 minutes: one attempt regained every 30 s.
        assert_eq!(refused.seconds(), 30);
        for i in 11..30 {
            assert_eq!(limits.check(ip, None, now), Ok(()), "attempt {i}");
        }
        assert!(limits.check(ip, None, now).is_err());
    }
}
