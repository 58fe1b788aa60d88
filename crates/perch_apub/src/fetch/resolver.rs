//! The DNS resolver of the federation HTTP client.
//!
//! Checking a host name before the request is not enough: a name can
//! resolve to `127.0.0.1`, or resolve to a public address when checked and a
//! private one when connecting (DNS rebinding). So the check is made here,
//! on the very addresses the client then connects to.

use std::net::SocketAddr;
#[cfg(test)]
use std::{collections::HashMap, net::IpAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::FetchError;
use super::address::is_public_address;

/// Resolves with tokio (the system resolver) and drops the addresses that
/// are not public, unless private addresses are allowed.
pub(super) struct GuardedResolver {
    pub(super) allow_private: bool,
    /// Names answered without DNS, as (address, treat as public). Tests use
    /// this to stand in for a public server on 127.0.0.1.
    #[cfg(test)]
    pub(super) static_hosts: HashMap<String, (IpAddr, bool)>,
}

/// The resolved addresses of `host` that we may connect to.
async fn lookup(allow_private: bool, host: String) -> Result<Vec<SocketAddr>, FetchError> {
    // Port 0: the client puts the URL's port (or the scheme's) in its place.
    let found = tokio::net::lookup_host((host.as_str(), 0))
        .await
        .map_err(|e| FetchError::Network(format!("cannot resolve {host}: {e}")))?;
    let allowed: Vec<SocketAddr> = found
        .filter(|addr| allow_private || is_public_address(addr.ip()))
        .collect();
    if allowed.is_empty() {
        tracing::debug!(%host, "refused: the name resolves to no public address");
        return Err(FetchError::ForbiddenAddress(host));
    }
    Ok(allowed)
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let allow_private = self.allow_private;
        #[cfg(test)]
        if let Some(&(ip, treat_as_public)) = self.static_hosts.get(&host) {
            let allowed = allow_private || treat_as_public || is_public_address(ip);
            return Box::pin(async move {
                if !allowed {
                    return Err(FetchError::ForbiddenAddress(host).into());
                }
                let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(ip, 0)));
                Ok(addrs)
            });
        }
        Box::pin(async move {
            let addrs: Addrs = Box::new(lookup(allow_private, host).await?.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(allow_private: bool) -> GuardedResolver {
        GuardedResolver {
            allow_private,
            static_hosts: HashMap::from([
                ("public.test".to_owned(), ([127, 0, 0, 1].into(), true)),
                ("private.test".to_owned(), ([10, 0, 0, 1].into(), false)),
                ("global.test".to_owned(), ([8, 8, 8, 8].into(), false)),
            ]),
        }
    }

    async fn resolve(resolver: &GuardedResolver, name: &str) -> Result<Vec<SocketAddr>, String> {
        let name: Name = name.parse().map_err(|_| "invalid name".to_owned())?;
        match resolver.resolve(name).await {
            Ok(addrs) => Ok(addrs.collect()),
            Err(error) => Err(error.to_string()),
        }
    }

    #[tokio::test]
    async fn drops_private_addresses_unless_allowed() {
        let strict = resolver(false);
        let error = resolve(&strict, "localhost").await.expect_err("localhost");
        assert!(error.contains("private address"), "{error}");
        let error = resolve(&strict, "private.test").await.expect_err("private");
        assert!(error.contains("private address"), "{error}");
        assert_eq!(
            resolve(&strict, "global.test").await,
            Ok(vec!["8.8.8.8:0".parse().expect("addr")])
        );
        assert_eq!(
            resolve(&strict, "PUBLIC.test").await,
            Ok(vec!["127.0.0.1:0".parse().expect("addr")])
        );

        let relaxed = resolver(true);
        let found = resolve(&relaxed, "localhost").await.expect("localhost");
        assert!(
            found.iter().all(|addr| addr.ip().is_loopback()),
            "{found:?}"
        );
        assert_eq!(
            resolve(&relaxed, "private.test").await,
            Ok(vec!["10.0.0.1:0".parse().expect("addr")])
        );
    }
}
