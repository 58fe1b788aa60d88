//! Every outbound HTTP request of the federation layer.
//!
//! Guards, on every request and on every redirect hop: `https` only (plain
//! `http` too when private addresses are allowed), no credentials in URLs,
//! literal IP hosts classified directly, host names resolved by a resolver
//! that drops non-public addresses (the check is on the resolved address,
//! not only the name), a connect and a total timeout, a response size limit,
//! and at most a few redirects, followed here so that each hop is re-checked
//! and re-signed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, header};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::de::DeserializeOwned;
use url::Url;

/// Signs a request just before it is sent (once per hop).
pub trait RequestSigner: Send + Sync {
    fn sign(
        &self,
        method: &Method,
        url: &Url,
        headers: &mut HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<(), String>;
}

/// Limits of outbound requests.
#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// Allow loopback/private targets and plain `http` (tests, development).
    pub allow_private_addresses: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub user_agent: String,
}

impl FetchPolicy {
    /// Defaults, with a user agent naming our domain.
    pub fn for_domain(domain: &str) -> Self {
        Self {
            allow_private_addresses: false,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            max_body_bytes: 1024 * 1024,
            max_redirects: 3,
            user_agent: format!("Perch/{} (+https://{domain}/)", env!("CARGO_PKG_VERSION")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refusing to connect to a non-public address ({0})")]
    ForbiddenAddress(String),
    #[error("refusing the URL scheme or form of {0}")]
    Scheme(String),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request timed out")]
    Timeout,
    #[error("too many redirects")]
    TooManyRedirects,
    #[error("unexpected content type {0:?}")]
    ContentType(String),
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("gone (410)")]
    Gone,
    #[error("not found (404)")]
    NotFound,
    #[error("invalid JSON: {0}")]
    Decode(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Whether an address is globally routable (not loopback, private,
/// link-local, shared, documentation, multicast, reserved…).
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..=127).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..=31).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (18..=19).contains(&b))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    if segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6] == [0, 0, 0, 0] {
        let [.., a, b] = segments;
        return is_public_v4(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        ));
    }
    if segments[0] == 0x2002 {
        let (a, b) = (segments[1], segments[2]);
        return is_public_v4(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        ));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xff00) == 0xff00 // multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard
        || segments[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
}

/// Resolves names and drops non-public addresses unless allowed.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| allow_private || is_public_address(addr.ip()))
                .collect();
            if allowed.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(FetchError::ForbiddenAddress(host));
                return Err(error);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The outbound HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: policy.allow_private_addresses,
            }))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .user_agent(policy.user_agent.clone())
            .build()
            .map_err(|e| FetchError::Network(e.to_string()))?;
        Ok(Self {
            client,
            policy: Arc::new(policy),
        })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Refuse what no request may target, before connecting.
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        let scheme_ok = match url.scheme() {
            "https" => true,
            "http" => self.policy.allow_private_addresses,
            _ => false,
        };
        if !scheme_ok || !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Scheme(url.to_string()));
        }
        match url.host() {
            None => Err(FetchError::Scheme(url.to_string())),
            Some(url::Host::Ipv4(ip))
                if !self.policy.allow_private_addresses && !is_public_v4(ip) =>
            {
                Err(FetchError::ForbiddenAddress(ip.to_string()))
            }
            Some(url::Host::Ipv6(ip))
                if !self.policy.allow_private_addresses && !is_public_v6(ip) =>
            {
                Err(FetchError::ForbiddenAddress(ip.to_string()))
            }
            Some(url::Host::Domain(name))
                if !self.policy.allow_private_addresses
                    && (name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")) =>
            {
                Err(FetchError::ForbiddenAddress(name.to_owned()))
            }
            Some(_) => Ok(()),
        }
    }

    /// Send one request, following redirects (re-checked, re-signed).
    async fn send(
        &self,
        method: Method,
        url: &Url,
        mut headers: HeaderMap,
        body: Option<Vec<u8>>,
        signer: Option<&dyn RequestSigner>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut url = url.clone();
        for _ in 0..=self.policy.max_redirects {
            self.check_url(&url)?;
            let mut hop_headers = headers.clone();
            if let Some(signer) = signer {
                signer
                    .sign(&method, &url, &mut hop_headers, body.as_deref())
                    .map_err(FetchError::Sign)?;
            }
            let mut request = self
                .client
                .request(method.clone(), url.clone())
                .headers(hop_headers);
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let response = request.send().await.map_err(|e| network_error(&e))?;
            if response.status().is_redirection() && method == Method::GET {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or(FetchError::Status(response.status().as_u16()))?;
                url = location;
                headers.remove(header::HOST);
                continue;
            }
            return Ok(response);
        }
        Err(FetchError::TooManyRedirects)
    }

    /// GET a JSON document (ActivityPub or WebFinger).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        accept: &str,
        signer: Option<&dyn RequestSigner>,
    ) -> Result<T, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(accept).map_err(|_| FetchError::Scheme(accept.to_owned()))?,
        );
        let response = self.send(Method::GET, url, headers, None, signer).await?;
        match response.status().as_u16() {
            200..=299 => {}
            404 => return Err(FetchError::NotFound),
            410 => return Err(FetchError::Gone),
            other => return Err(FetchError::Status(other)),
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !matches!(
            essence.as_str(),
            "application/activity+json"
                | "application/ld+json"
                | "application/jrd+json"
                | "application/json"
        ) {
            return Err(FetchError::ContentType(content_type));
        }
        let bytes = self.read_limited(response).await?;
        serde_json::from_slice(&bytes).map_err(|e| FetchError::Decode(e.to_string()))
    }

    /// POST a body (a delivery); returns the status. Redirects are not
    /// followed for POSTs.
    pub async fn post(
        &self,
        url: &Url,
        content_type: &str,
        body: Vec<u8>,
        signer: Option<&dyn RequestSigner>,
    ) -> Result<u16, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type)
                .map_err(|_| FetchError::Scheme(content_type.to_owned()))?,
        );
        let response = self
            .send(Method::POST, url, headers, Some(body), signer)
            .await?;
        let status = response.status().as_u16();
        // Drain a little of the answer so the connection can be reused.
        let _ = self.read_limited(response).await;
        Ok(status)
    }

    async fn read_limited(&self, response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let limit = self.policy.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(FetchError::TooLarge(limit));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| network_error(&e))?;
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn network_error(error: &reqwest::Error) -> FetchError {
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(current) = source {
        if let Some(FetchError::ForbiddenAddress(host)) = current.downcast_ref::<FetchError>() {
            return FetchError::ForbiddenAddress(host.clone());
        }
        source = current.source();
    }
    FetchError::Network(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_classes() {
        for private in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
        ] {
            let ip: IpAddr = private.parse().expect("address");
            assert!(!is_public_address(ip), "{private} must not be public");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let ip: IpAddr = public.parse().expect("address");
            assert!(is_public_address(ip), "{public} is public");
        }
    }

    #[test]
    fn urls_are_checked_before_connecting() {
        let strict = Fetcher::new(FetchPolicy::for_domain("perch.example")).expect("client");
        for refused in [
            "http://example.com/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://localhost/",
            "https://10.0.0.1/inbox",
        ] {
            let url = Url::parse(refused).expect("url");
            assert!(strict.check_url(&url).is_err(), "{refused}");
        }
        assert!(
            strict
                .check_url(&Url::parse("https://example.com/").expect("url"))
                .is_ok()
        );
        let relaxed = Fetcher::new(FetchPolicy {
            allow_private_addresses: true,
            ..FetchPolicy::for_domain("perch.example")
        })
        .expect("client");
        assert!(
            relaxed
                .check_url(&Url::parse("http://127.0.0.1:8080/").expect("url"))
                .is_ok()
        );
        assert!(
            relaxed
                .check_url(&Url::parse("ftp://127.0.0.1/").expect("url"))
                .is_err()
        );
    }
}
