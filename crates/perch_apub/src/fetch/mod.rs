//! Every outbound HTTP request of the federation layer: fetching remote
//! actors, objects and WebFinger documents ([`Fetcher::get_json`]) and
//! delivering activities ([`Fetcher::post`]).
//!
//! Remote servers choose the URLs we request (actor ids, inboxes, redirect
//! targets), so every request, and every redirect hop, is guarded: `https`
//! only (plain `http` too when private addresses are allowed, for tests and
//! local development), a host and no credentials in the URL, no loopback,
//! private, link-local or otherwise non-public target (literal IP hosts are
//! classified here, host names by the client's resolver on the addresses it
//! actually connects to), a connect timeout and a deadline for the whole
//! exchange, a response size limit, and a few redirects at most. Redirects
//! are followed here rather than by `reqwest`, so that each hop is checked
//! and signed again for its own URL.

mod address;
mod resolver;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use url::Url;

pub use address::is_public_address;
use resolver::GuardedResolver;

/// How much of a delivery's response body is read (and thrown away) so that
/// the connection can go back to the pool; past this it is closed instead.
const POST_RESPONSE_DRAIN_BYTES: usize = 16 * 1024;

/// Signs a request just before it is sent: once per hop, with that hop's
/// URL, since a signature covers the host and path it is sent to.
pub trait RequestSigner: Send + Sync {
    fn sign(
        &self,
        method: &Method,
        url: &Url,
        headers: &mut HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<(), String>;
}

/// Idle connections kept per host (see [`Fetcher`]'s client).
const IDLE_CONNECTIONS_PER_HOST: usize = 2;
/// How long an idle connection is kept.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Limits of outbound requests.
#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// Allow loopback and private targets, and plain `http`
    /// (`PERCH_ALLOW_PRIVATE_ADDRESSES`: tests and local development only).
    pub allow_private_addresses: bool,
    /// Time to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Deadline for a whole exchange: every redirect hop and the body.
    pub request_timeout: Duration,
    /// Largest response body accepted.
    pub max_body_bytes: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    pub user_agent: String,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow_private_addresses: false,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            max_body_bytes: 1024 * 1024,
            max_redirects: 3,
            user_agent: format!("Perch/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl FetchPolicy {
    /// The defaults, with a user agent naming our domain so that remote
    /// admins know whom a request comes from.
    pub fn for_domain(domain: &str) -> Self {
        Self {
            user_agent: format!("Perch/{} (+https://{domain}/)", env!("CARGO_PKG_VERSION")),
            ..Self::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refusing to connect to a private address: {0}")]
    ForbiddenAddress(String),
    #[error(
        "refusing the URL {0}: only https URLs with a host and without credentials are \
         fetched (plain http too when private addresses are allowed)"
    )]
    Scheme(String),
    #[error("the response is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("the request timed out")]
    Timeout,
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("the response is not JSON (content type {0:?})")]
    ContentType(String),
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the document is gone (HTTP 410)")]
    Gone,
    #[error("the document was not found (HTTP 404)")]
    NotFound,
    #[error("the server {0} is blocked by this instance's federation policy")]
    Blocked(String),
    #[error("the response is not the expected JSON: {0}")]
    Decode(String),
    #[error("invalid {0} header value")]
    InvalidHeader(&'static str),
    #[error("network error: {0}")]
    Network(String),
    #[error("signing the request failed: {0}")]
    Sign(String),
}

/// The outbound HTTP client of the federation layer. Built once at start-up;
/// cheap to clone (clones share the connection pool).
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
    /// Plain `http` URLs accepted. Follows `allow_private_addresses`, except
    /// in tests, which stand in for public servers with plain-http ones.
    allow_plain_http: bool,
    /// Servers no request may reach (blocked, or not allowed).
    federation: crate::policy::FederationPolicy,
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Result<Self, FetchError> {
        let resolver = GuardedResolver {
            allow_private: policy.allow_private_addresses,
            #[cfg(test)]
            static_hosts: Default::default(),
        };
        let allow_plain_http = policy.allow_private_addresses;
        Self::build(policy, resolver, allow_plain_http)
    }

    /// A fetcher that accepts plain `http` and resolves the given names
    /// without DNS, as (name, address, treat the address as public), so that
    /// a test server on 127.0.0.1 can play a public server while every other
    /// name and literal address is still checked as usual.
    #[cfg(test)]
    pub(crate) fn with_static_hosts(
        policy: FetchPolicy,
        hosts: &[(&str, std::net::IpAddr, bool)],
    ) -> Result<Self, FetchError> {
        let resolver = GuardedResolver {
            allow_private: policy.allow_private_addresses,
            static_hosts: hosts
                .iter()
                .map(|&(name, ip, public)| (name.to_ascii_lowercase(), (ip, public)))
                .collect(),
        };
        Self::build(policy, resolver, true)
    }

    fn build(
        policy: FetchPolicy,
        resolver: GuardedResolver,
        allow_plain_http: bool,
    ) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .dns_resolver(Arc::new(resolver))
            // A proxy would resolve and connect on our behalf, out of the
            // resolver's sight: an environment variable must not undo the
            // address checks.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .https_only(!allow_plain_http)
            .connect_timeout(policy.connect_timeout)
            // A server federates with thousands of hosts, and an idle
            // connection holds its buffers (about 26 KiB): keep a couple
            // per host, for the deliveries that follow one another, and
            // not for long.
            .pool_max_idle_per_host(IDLE_CONNECTIONS_PER_HOST)
            .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
            .user_agent(policy.user_agent.clone())
            .build()
            .map_err(|e| FetchError::Network(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            policy: Arc::new(policy),
            allow_plain_http,
            federation: crate::policy::FederationPolicy::default(),
        })
    }

    /// The same fetcher, refusing the servers `federation` refuses.
    pub fn with_federation_policy(mut self, federation: crate::policy::FederationPolicy) -> Self {
        self.federation = federation;
        self
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// GET a JSON document: an ActivityPub object (`accept` is
    /// `application/activity+json, application/ld+json; profile=…`) or a
    /// WebFinger answer (`application/jrd+json, application/json`).
    ///
    /// 404 and 410 have their own errors because callers treat them apart
    /// (a deleted actor, an unknown account); other non-2xx statuses are
    /// [`FetchError::Status`].
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        accept: &str,
        signer: Option<&dyn RequestSigner>,
    ) -> Result<T, FetchError> {
        Ok(self.get_document(url, accept, signer).await?.0)
    }

    /// [`Fetcher::get_json`], with the URL the document was finally served
    /// from (after redirects): what vouches for a document is its origin,
    /// not the URL first asked for.
    pub async fn get_document<T: DeserializeOwned>(
        &self,
        url: &Url,
        accept: &str,
        signer: Option<&dyn RequestSigner>,
    ) -> Result<(T, Url), FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(accept).map_err(|_| FetchError::InvalidHeader("Accept"))?,
        );
        let exchange = async {
            let response = self.send(Method::GET, url, headers, None, signer).await?;
            match response.status().as_u16() {
                200..=299 => {}
                404 => return Err(FetchError::NotFound),
                410 => return Err(FetchError::Gone),
                other => return Err(FetchError::Status(other)),
            }
            check_json_content_type(response.headers())?;
            let served_from = response.url().clone();
            Ok((self.read_limited(response).await?, served_from))
        };
        let (body, served_from) = self.within_deadline(exchange).await?;
        let document =
            serde_json::from_slice(&body).map_err(|e| FetchError::Decode(e.to_string()))?;
        Ok((document, served_from))
    }

    /// POST a body (a delivery) and return the response status, whatever it
    /// is: the delivery worker decides what to retry. 307 and 308 redirects
    /// are followed with the same body; other redirects are returned as
    /// their status, since they would turn the POST into a GET.
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
                .map_err(|_| FetchError::InvalidHeader("Content-Type"))?,
        );
        self.post_with_headers(url, headers, body, signer).await
    }

    /// [`Fetcher::post`] with the request's headers given whole (a Web
    /// Push, whose encoding needs several).
    pub async fn post_with_headers(
        &self,
        url: &Url,
        headers: HeaderMap,
        body: Vec<u8>,
        signer: Option<&dyn RequestSigner>,
    ) -> Result<u16, FetchError> {
        let exchange = async {
            let response = self
                .send(Method::POST, url, headers, Some(body), signer)
                .await?;
            let status = response.status().as_u16();
            drain(response).await;
            Ok(status)
        };
        self.within_deadline(exchange).await
    }

    /// Run a whole exchange (every hop and the body) under the policy's
    /// deadline.
    async fn within_deadline<T>(
        &self,
        exchange: impl Future<Output = Result<T, FetchError>>,
    ) -> Result<T, FetchError> {
        tokio::time::timeout(self.policy.request_timeout, exchange)
            .await
            .unwrap_or(Err(FetchError::Timeout))
    }

    /// Refuse what no request may target, before connecting. Host names are
    /// checked again, on their resolved addresses, by the resolver.
    fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        let has_credentials = !url.username().is_empty() || url.password().is_some();
        if has_credentials || url.host().is_none() {
            return Err(FetchError::Scheme(redacted(url)));
        }
        // A server the instance blocked (or does not allow) is not
        // reached, not even through a redirect.
        if let Some(host) = crate::objects::person::authority(url) {
            if self.federation.refuses(&host) {
                return Err(FetchError::Blocked(host));
            }
        }
        // The address before the scheme: for `http://127.0.0.1/` the
        // address is the more useful thing to report.
        if !self.policy.allow_private_addresses && !host_may_be_public(url) {
            return Err(FetchError::ForbiddenAddress(
                url.host_str().unwrap_or_default().to_owned(),
            ));
        }
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_plain_http => Ok(()),
            _ => Err(FetchError::Scheme(redacted(url))),
        }
    }

    /// Send a request, following redirects: each hop is checked and signed
    /// for its own URL. Returns the first response that is not followed.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
        signer: Option<&dyn RequestSigner>,
    ) -> Result<reqwest::Response, FetchError> {
        let mut url = url.clone();
        // The fragment is never sent, and must not be signed.
        url.set_fragment(None);
        for _ in 0..=self.policy.max_redirects {
            self.check_url(&url)?;
            // Fresh headers per hop: a signature (and its `Host`) is only
            // valid for the URL it was made for.
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
            let response = request.send().await.map_err(network_error)?;
            match redirect_target(&method, &url, &response) {
                Some(next) => {
                    tracing::debug!(from = %url, to = %next, "following a redirect");
                    url = next;
                }
                None => return Ok(response),
            }
        }
        Err(FetchError::TooManyRedirects(self.policy.max_redirects))
    }

    /// Read the body, refusing it past the policy's limit: up front when
    /// `Content-Length` says so, otherwise as soon as the stream passes it.
    async fn read_limited(&self, response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let limit = self.policy.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(FetchError::TooLarge(limit));
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(network_error)?;
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Whether the URL's host can be a public server, as far as can be told
/// without resolving it.
fn host_may_be_public(url: &Url) -> bool {
    match url.host() {
        // `reqwest` does not call the resolver for literal addresses.
        Some(url::Host::Ipv4(ip)) => is_public_address(ip.into()),
        Some(url::Host::Ipv6(ip)) => is_public_address(ip.into()),
        // The resolver refuses it too, but only if the system resolver maps
        // it to loopback, which RFC 6761 asks of it and not every one does.
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Where a response redirects to, if it is a redirect we follow for this
/// method.
fn redirect_target(method: &Method, url: &Url, response: &reqwest::Response) -> Option<Url> {
    let follow = match response.status() {
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => true,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER => {
            method == Method::GET
        }
        _ => false,
    };
    if !follow {
        return None;
    }
    // A redirect without a usable Location is left to the caller as its
    // status.
    let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
    let mut next = url.join(location).ok()?;
    next.set_fragment(None);
    Some(next)
}

/// Accept the JSON media types of ActivityPub, JSON-LD, WebFinger and plain
/// JSON, with any parameters (`profile`, `charset`).
fn check_json_content_type(headers: &HeaderMap) -> Result<(), FetchError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/activity+json"
        | "application/ld+json"
        | "application/jrd+json"
        | "application/json" => Ok(()),
        _ => Err(FetchError::ContentType(content_type.to_owned())),
    }
}

/// Read and discard a little of a body so the connection can be reused;
/// errors do not matter, the status is already known.
async fn drain(response: reqwest::Response) {
    let mut stream = response.bytes_stream();
    let mut read = 0;
    while read < POST_RESPONSE_DRAIN_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => read += chunk.len(),
            Some(Err(_)) | None => break,
        }
    }
}

/// A URL fit for an error message: without user name or password.
fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    // Fails only for URLs that cannot have credentials anyway.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// Map a client error, recovering the resolver's refusal from the chain of
/// sources.
fn network_error(error: reqwest::Error) -> FetchError {
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = source {
        if let Some(FetchError::ForbiddenAddress(host)) = current.downcast_ref::<FetchError>() {
            return FetchError::ForbiddenAddress(host.clone());
        }
        source = current.source();
    }
    FetchError::Network(error_chain(&error))
}

/// An error and its sources on one line (`reqwest`'s own message alone is
/// only "error sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        text.push_str(": ");
        text.push_str(&current.to_string());
        source = current.source();
    }
    text
}
